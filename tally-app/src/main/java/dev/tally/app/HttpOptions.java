package dev.tally.app;

import picocli.CommandLine.Option;

/** Where {@code collect}, {@code serve} and {@code run} listen. */
public final class HttpOptions {

    @Option(names = "--port", description = "HTTP port (default ${DEFAULT-VALUE}; 0 picks a free one)")
    public int port = 8080;

    @Option(names = "--bind", paramLabel = "ADDRESS", description = "address to listen on (default ${DEFAULT-VALUE}; 0.0.0.0 for every interface)")
    public String bind = "127.0.0.1";
}
