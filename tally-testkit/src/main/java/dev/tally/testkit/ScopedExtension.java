package dev.tally.testkit;

import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * An extension whose resource lives as long as the scope it was registered in: a static
 * {@code @RegisterExtension} field opens it before all tests of the class and closes it after
 * them; an instance field opens it before each test and closes it after that test. The context
 * that opened it is the one that closes it, so {@code @Nested} classes share their outer class's
 * resource.
 */
abstract class ScopedExtension implements BeforeAllCallback, AfterAllCallback, BeforeEachCallback, AfterEachCallback {

    private String owner;
    private ExtensionContext scope;
    private boolean opened;

    @Override
    public void beforeAll(ExtensionContext context) throws Exception {
        openFor(context);
    }

    @Override
    public void beforeEach(ExtensionContext context) throws Exception {
        if (owner == null) {
            openFor(context);
        } else {
            beforeEachTest(context);
        }
    }

    @Override
    public void afterEach(ExtensionContext context) throws Exception {
        closeFor(context);
    }

    @Override
    public void afterAll(ExtensionContext context) throws Exception {
        closeFor(context);
    }

    /** Opens the resource; an exception fails (or, for an assumption, skips) the scope's tests. */
    abstract void open(ExtensionContext context) throws Exception;

    /** Releases the resource; called once per successful {@link #open}, also after failed tests. */
    abstract void close() throws Exception;

    /** Called before each test that runs on a resource opened earlier for the whole class. */
    void beforeEachTest(ExtensionContext context) throws Exception {
    }

    /** Whether the resource is made when a test first asks for it rather than at the start of its scope. */
    boolean onFirstUse() {
        return false;
    }

    /** Whether the resource is in its scope (open, or to be opened on first use), for accessors that must fail clearly outside a test. */
    final boolean isOpen() {
        return owner != null;
    }

    /**
     * Opens a resource {@linkplain #onFirstUse() made on first use} unless it is open already, for
     * an accessor; outside its scope throws {@code IllegalStateException} with {@code outsideScope}.
     * A failure (or an assumption) of {@link #open} fails (or skips) the test that asked.
     */
    final synchronized void use(String outsideScope) {
        if (owner == null) {
            throw new IllegalStateException(outsideScope);
        }
        if (!opened) {
            try {
                open(scope);
            } catch (RuntimeException e) {
                throw e;
            } catch (Exception e) {
                throw new IllegalStateException("cannot make the test's resource: " + e.getMessage(), e);
            }
            opened = true;
        }
    }

    private synchronized void openFor(ExtensionContext context) throws Exception {
        if (owner != null) {
            return;
        }
        if (!onFirstUse()) {
            open(context);
            opened = true;
        }
        owner = context.getUniqueId();
        scope = context;
    }

    private synchronized void closeFor(ExtensionContext context) throws Exception {
        if (owner != null && owner.equals(context.getUniqueId())) {
            owner = null;
            scope = null;
            if (opened) {
                opened = false;
                close();
            }
        }
    }
}
