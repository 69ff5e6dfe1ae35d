package dev.tally.broker;

import java.io.IOException;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.util.Arrays;

/**
 * The first main class of every {@link ChildJvm}: starts a watch on the parent, then runs the
 * real main class ({@code args[0]}) with the remaining arguments.
 *
 * <p>The parent holds the write end of the child's standard input and never writes or closes it,
 * so end-of-input means the parent is gone, however it died, even by {@code kill -9}. The child
 * then exits through its shutdown hooks, and is halted if they take longer than
 * {@link #GRACE_MILLIS} (a broker's clean shutdown can wait minutes for a quorum that is gone).
 */
final class ParentWatch {

    static final long GRACE_MILLIS = 10_000;

    private ParentWatch() {}

    public static void main(String[] args) throws Throwable {
        if (args.length == 0) {
            System.err.println("usage: ParentWatch MAIN-CLASS [ARGS...]");
            System.exit(2);
        }
        Thread watch = new Thread(ParentWatch::watch, "tally-parent-watch");
        watch.setDaemon(true);
        watch.start();
        Method main = Class.forName(args[0]).getMethod("main", String[].class);
        try {
            main.invoke(null, (Object) Arrays.copyOfRange(args, 1, args.length));
        } catch (InvocationTargetException e) {
            throw e.getCause();
        }
    }

    private static void watch() {
        try {
            while (System.in.read() != -1) {
                // nothing is ever written; only the end matters
            }
        } catch (IOException ignored) {
            // a broken pipe is the same news
        }
        Thread halt = new Thread(() -> {
            try {
                Thread.sleep(GRACE_MILLIS);
            } catch (InterruptedException ignored) {
                // halting anyway
            }
            Runtime.getRuntime().halt(137);
        }, "tally-parent-watch-halt");
        halt.setDaemon(true);
        halt.start();
        System.err.println("tally: parent process is gone; exiting");
        System.exit(143);
    }
}
