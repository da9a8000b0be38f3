/*
 * Test oracle for airflow_provider_flink_k8s.resources.memory: answers many questions per JVM
 * start by running Flink's own code (the jars of apache-flink-libraries) and the JDK.
 *
 * Protocol, one request per line on stdin and exactly one reply line per request on stdout;
 * fields are tab-separated and escaped with backslashes (\\ \t \n \r):
 *
 *   TM <key=value>...      BashJavaUtils GET_TM_RESOURCE_PARAMS with "-D key=value" each
 *   JM <key=value>...      BashJavaUtils GET_JM_RESOURCE_PARAMS with "-D key=value" each
 *   PARSE_FLOAT <text>     Float.parseFloat, widened to double, as 16 hex digits of its bits
 *   PARSE_DOUBLE <text>    Double.parseDouble, as 16 hex digits of its bits
 *   DOUBLE_TO_STRING <hex> Double.toString of the double with these bits
 *   FORMAT3 <hex>          String.format(Locale.ROOT, "%.3f", double with these bits)
 *   HUMAN <bytes>          new MemorySize(bytes).toHumanReadableString()
 *   MULTIPLY <bytes> <hex> new MemorySize(bytes).multiply(double with these bits).getBytes()
 *
 * Replies: "OK" followed by the result fields, or "ERR", the exception's class name and its
 * message (the message BashJavaUtils dies with).
 *
 * Usage: java -cp <flink jars>:<dir of this class> MemoryOracle <dir holding an empty config.yaml>
 */

import java.io.BufferedReader;
import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

public final class MemoryOracle {

    private static final String BASH_JAVA_UTILS = "org.apache.flink.runtime.util.bash.BashJavaUtils";
    private static final String MEMORY_SIZE = "org.apache.flink.configuration.MemorySize";

    private final String configDir;
    private final Method runCommand;
    private final Class<?> commandClass;
    private final Class<?> memorySizeClass;

    private MemoryOracle(String configDir) throws ReflectiveOperationException {
        this.configDir = configDir;
        Class<?> bashJavaUtils = Class.forName(BASH_JAVA_UTILS);
        this.commandClass = Class.forName(BASH_JAVA_UTILS + "$Command");
        // The very method BashJavaUtils.main() calls: config loading, derivation and formatting.
        this.runCommand = bashJavaUtils.getDeclaredMethod("runCommand", commandClass, String[].class);
        this.runCommand.setAccessible(true);
        this.memorySizeClass = Class.forName(MEMORY_SIZE);
    }

    public static void main(String[] args) throws Exception {
        // Replies get the real stdout; anything Flink or log4j prints goes to stderr instead.
        PrintStream replies =
                new PrintStream(new FileOutputStream(FileDescriptor.out), false, StandardCharsets.UTF_8);
        System.setOut(System.err);
        MemoryOracle oracle = new MemoryOracle(args[0]);
        BufferedReader requests =
                new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        String line;
        while ((line = requests.readLine()) != null) {
            replies.println(oracle.answer(line));
            if (!requests.ready()) {
                replies.flush();
            }
        }
        replies.flush();
    }

    private String answer(String line) {
        String[] fields = line.split("\t", -1);
        for (int i = 0; i < fields.length; i++) {
            fields[i] = unescape(fields[i]);
        }
        try {
            return "OK\t" + String.join("\t", escapeAll(dispatch(fields)));
        } catch (InvocationTargetException e) {
            return failure(e.getCause());
        } catch (Throwable t) {
            return failure(t);
        }
    }

    private List<String> dispatch(String[] fields) throws Exception {
        switch (fields[0]) {
            case "TM":
                return bashJavaUtils("GET_TM_RESOURCE_PARAMS", fields);
            case "JM":
                return bashJavaUtils("GET_JM_RESOURCE_PARAMS", fields);
            case "PARSE_FLOAT":
                return List.of(hex((double) Float.parseFloat(fields[1])));
            case "PARSE_DOUBLE":
                return List.of(hex(Double.parseDouble(fields[1])));
            case "DOUBLE_TO_STRING":
                return List.of(Double.toString(fromHex(fields[1])));
            case "FORMAT3":
                return List.of(String.format(Locale.ROOT, "%.3f", fromHex(fields[1])));
            case "HUMAN":
                return List.of((String) memorySizeClass.getMethod("toHumanReadableString")
                        .invoke(memorySize(fields[1])));
            case "MULTIPLY":
                Object product = memorySizeClass.getMethod("multiply", double.class)
                        .invoke(memorySize(fields[1]), fromHex(fields[2]));
                return List.of(String.valueOf(memorySizeClass.getMethod("getBytes").invoke(product)));
            default:
                throw new IllegalArgumentException("unknown request " + fields[0]);
        }
    }

    @SuppressWarnings("unchecked")
    private List<String> bashJavaUtils(String command, String[] fields) throws Exception {
        List<String> args = new ArrayList<>(List.of("--configDir", configDir));
        for (int i = 1; i < fields.length; i++) {
            args.add("-D");
            args.add(fields[i]);
        }
        Object commandValue = commandClass.getMethod("valueOf", String.class).invoke(null, command);
        return (List<String>) runCommand.invoke(null, commandValue, args.toArray(new String[0]));
    }

    private Object memorySize(String bytes) throws ReflectiveOperationException {
        return memorySizeClass.getConstructor(long.class).newInstance(Long.parseLong(bytes));
    }

    private static String failure(Throwable t) {
        if (t instanceof InvocationTargetException) {
            t = t.getCause();
        }
        return "ERR\t" + escape(t.getClass().getName()) + "\t" + escape(String.valueOf(t.getMessage()));
    }

    private static String hex(double value) {
        return String.format("%016x", Double.doubleToRawLongBits(value));
    }

    private static double fromHex(String bits) {
        return Double.longBitsToDouble(Long.parseUnsignedLong(bits, 16));
    }

    private static List<String> escapeAll(List<String> values) {
        List<String> escaped = new ArrayList<>();
        for (String value : values) {
            escaped.add(escape(value));
        }
        return escaped;
    }

    private static String escape(String value) {
        StringBuilder out = new StringBuilder();
        for (char c : value.toCharArray()) {
            switch (c) {
                case '\\': out.append("\\\\"); break;
                case '\t': out.append("\\t"); break;
                case '\n': out.append("\\n"); break;
                case '\r': out.append("\\r"); break;
                default: out.append(c);
            }
        }
        return out.toString();
    }

    private static String unescape(String value) {
        StringBuilder out = new StringBuilder();
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if (c == '\\' && i + 1 < value.length()) {
                char next = value.charAt(++i);
                out.append(next == 't' ? '\t' : next == 'n' ? '\n' : next == 'r' ? '\r' : next);
            } else {
                out.append(c);
            }
        }
        return out.toString();
    }
}
