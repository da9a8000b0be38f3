"""Resource sizing for Flink clusters on Kubernetes: memory, plans and load-based parallelism."""
