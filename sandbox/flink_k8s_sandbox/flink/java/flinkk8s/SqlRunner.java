/*
 * Licensed under the Apache License, Version 2.0 (part of airflow-provider-flink-k8s).
 */
package flinkk8s;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.table.api.ResultKind;
import org.apache.flink.table.api.StatementSet;
import org.apache.flink.table.api.TableResult;
import org.apache.flink.table.api.bridge.java.StreamTableEnvironment;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs Flink SQL statements as a Flink job: the entry class of the provider's demo jobs.
 *
 * <pre>
 * flinkk8s.SqlRunner [--script FILE]... [--sql STATEMENT]... [--dry-run]
 * </pre>
 *
 * <p>Statements come from every {@code --script} file and {@code --sql} argument, in the
 * order given, separated by {@code ;} (outside quotes and comments). They run in a streaming
 * {@code StreamTableEnvironment} built on the context's execution environment, so the
 * cluster's configuration (checkpointing, parallelism, state backend) applies. {@code INSERT}
 * and {@code EXECUTE ...} statements submit jobs; {@code BEGIN STATEMENT SET; ...; END;} (the
 * SQL client's syntax) and {@code EXECUTE STATEMENT SET BEGIN ...; END;} submit several
 * inserts as one job. {@code SET 'key' = 'value'} sets a table option. {@code --dry-run}
 * prints the statements, each followed by a line {@code ----}, and runs nothing.
 *
 * <p>Flink's {@code standalone-job.sh} appends the JobManager's memory properties
 * ({@code -D key=value}) after the job's arguments; such pairs are skipped.
 *
 * <p>Errors are thrown, never {@code System.exit}: the runner's {@code main} may run inside
 * a JobManager, which an exit would take down.
 */
public final class SqlRunner {

    private static final Logger LOG = LoggerFactory.getLogger(SqlRunner.class);

    private static final String USAGE =
            "usage: flinkk8s.SqlRunner [--script FILE]... [--sql STATEMENT]... [--dry-run]";

    private static final Pattern SET =
            Pattern.compile("(?is)SET\\s+'((?:[^']|'')*)'\\s*=\\s*'((?:[^']|'')*)'");

    private static final Pattern EXECUTE_SET =
            Pattern.compile("(?is)EXECUTE\\s+STATEMENT\\s+SET\\s+BEGIN\\b.*");

    private static final Pattern BEGIN_SET = Pattern.compile("(?is)BEGIN\\s+STATEMENT\\s+SET");

    private static final Pattern END = Pattern.compile("(?is)END");

    private SqlRunner() {}

    public static void main(String[] args) throws Exception {
        boolean dryRun = false;
        StringBuilder text = new StringBuilder();
        for (int i = 0; i < args.length; i++) {
            String arg = args[i];
            if (arg.equals("--dry-run")) {
                dryRun = true;
            } else if (arg.equals("--script") || arg.equals("--sql")) {
                if (i + 1 >= args.length) {
                    throw new IllegalArgumentException(arg + " needs a value\n" + USAGE);
                }
                String value = args[++i];
                text.append(arg.equals("--script") ? readScript(value) : value).append("\n;\n");
            } else if (arg.equals("-D") && i + 1 < args.length && args[i + 1].contains("=")) {
                LOG.info("Ignoring the dynamic property -D {} (a cluster option)", args[++i]);
            } else {
                throw new IllegalArgumentException("unknown argument " + arg + "\n" + USAGE);
            }
        }
        List<String> statements = group(split(text.toString()));
        if (statements.isEmpty()) {
            throw new IllegalArgumentException("no SQL statements given\n" + USAGE);
        }
        if (dryRun) {
            for (String statement : statements) {
                System.out.println(statement);
                System.out.println("----");
            }
            return;
        }
        run(statements);
    }

    private static String readScript(String path) throws IOException {
        return new String(Files.readAllBytes(Paths.get(path)), StandardCharsets.UTF_8);
    }

    /** Splits SQL text at semicolons outside quotes and comments; drops comments and blanks. */
    static List<String> split(String text) {
        List<String> statements = new ArrayList<>();
        StringBuilder current = new StringBuilder();
        int i = 0;
        while (i < text.length()) {
            char c = text.charAt(i);
            char next = i + 1 < text.length() ? text.charAt(i + 1) : '\0';
            if (c == '-' && next == '-') {
                int end = text.indexOf('\n', i);
                i = end < 0 ? text.length() : end;
            } else if (c == '/' && next == '*') {
                int end = text.indexOf("*/", i + 2);
                i = end < 0 ? text.length() : end + 2;
                current.append(' ');
            } else if (c == '\'' || c == '"' || c == '`') {
                int end = closingQuote(text, i);
                current.append(text, i, end);
                i = end;
            } else if (c == ';') {
                addStatement(statements, current);
                i++;
            } else {
                current.append(c);
                i++;
            }
        }
        addStatement(statements, current);
        return statements;
    }

    /** The index after the quote closing the one at {@code start} (doubled quotes escape). */
    private static int closingQuote(String text, int start) {
        char quote = text.charAt(start);
        int i = start + 1;
        while (i < text.length()) {
            if (text.charAt(i) == quote) {
                if (i + 1 < text.length() && text.charAt(i + 1) == quote) {
                    i += 2;
                    continue;
                }
                return i + 1;
            }
            i++;
        }
        throw new IllegalArgumentException("unterminated " + quote + " quote in: " + text.substring(start));
    }

    private static void addStatement(List<String> statements, StringBuilder current) {
        String statement = current.toString().trim();
        if (!statement.isEmpty()) {
            statements.add(statement);
        }
        current.setLength(0);
    }

    /** Joins {@code EXECUTE STATEMENT SET BEGIN ...; ...; END} back into one statement. */
    static List<String> group(List<String> pieces) {
        List<String> statements = new ArrayList<>();
        StringBuilder block = null;
        for (String piece : pieces) {
            if (block != null) {
                block.append(";\n").append(piece);
                if (END.matcher(piece).matches()) {
                    statements.add(block.toString());
                    block = null;
                }
            } else if (EXECUTE_SET.matcher(piece).matches()) {
                block = new StringBuilder(piece);
            } else {
                statements.add(piece);
            }
        }
        if (block != null) {
            throw new IllegalArgumentException("EXECUTE STATEMENT SET without END: " + block);
        }
        return statements;
    }

    private static void run(List<String> statements) {
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        LOG.info(
                "Running {} SQL statement(s); checkpointing {} (interval {} ms)",
                statements.size(),
                env.getCheckpointConfig().isCheckpointingEnabled() ? "on" : "off",
                env.getCheckpointConfig().getCheckpointInterval());
        StreamTableEnvironment tableEnv = StreamTableEnvironment.create(env);
        StatementSet statementSet = null;
        for (String statement : statements) {
            if (statementSet != null) {
                if (END.matcher(statement).matches()) {
                    report("statement set", statementSet.execute());
                    statementSet = null;
                } else {
                    statementSet.addInsertSql(statement);
                }
            } else if (BEGIN_SET.matcher(statement).matches()) {
                statementSet = tableEnv.createStatementSet();
            } else {
                Matcher set = SET.matcher(statement);
                if (set.matches()) {
                    String key = set.group(1).replace("''", "'");
                    String value = set.group(2).replace("''", "'");
                    tableEnv.getConfig().set(key, value);
                    LOG.info("SET {} = {}", key, value);
                } else {
                    LOG.info("Executing: {}", statement);
                    report(firstWords(statement), tableEnv.executeSql(statement));
                }
            }
        }
        if (statementSet != null) {
            throw new IllegalArgumentException("BEGIN STATEMENT SET without END");
        }
    }

    private static void report(String what, TableResult result) {
        if (result.getJobClient().isPresent()) {
            LOG.info("Submitted {} as job {}", what, result.getJobClient().get().getJobID());
        } else if (result.getResultKind() == ResultKind.SUCCESS_WITH_CONTENT) {
            result.print();
        }
    }

    private static String firstWords(String statement) {
        String[] words = statement.trim().split("\\s+", 4);
        return String.join(" ", Arrays.copyOf(words, Math.min(3, words.length)));
    }
}
