package dev.tally.broker;

/**
 * A child main class for {@link ChildJvmIT}: each argument is a step. {@code print=X} prints X,
 * {@code env=NAME} prints the variable, {@code exit=N} exits with N, {@code tick} prints
 * {@code TICK n} every 20 ms for a minute, {@code sleep} sleeps for a minute. A shutdown hook
 * prints {@code HOOK}.
 */
public final class Chatter {

    public static void main(String[] args) throws Exception {
        Runtime.getRuntime().addShutdownHook(new Thread(() -> System.out.println("HOOK")));
        System.err.println("chatter on stderr");
        for (String step : args) {
            if (step.startsWith("print=")) {
                System.out.println(step.substring(6));
            } else if (step.startsWith("env=")) {
                System.out.println("ENV " + System.getenv(step.substring(4)));
            } else if (step.startsWith("exit=")) {
                System.exit(Integer.parseInt(step.substring(5)));
            } else if (step.equals("tick")) {
                for (int i = 0; i < 3_000; i++) {
                    System.out.println("TICK " + i);
                    Thread.sleep(20);
                }
            } else if (step.equals("sleep")) {
                Thread.sleep(60_000);
            }
        }
    }
}
