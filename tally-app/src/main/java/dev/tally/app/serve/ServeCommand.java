package dev.tally.app.serve;

import com.zaxxer.hikari.HikariDataSource;
import dev.tally.app.HttpOptions;
import dev.tally.app.StoreOptions;
import dev.tally.app.aggregate.Aggregator;
import dev.tally.app.http.Health;
import dev.tally.app.http.Metrics;
import dev.tally.app.http.WebServer;
import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/**
 * {@code bin/tally serve}: only the read side, over a store that aggregators fill. It migrates the
 * schema first, so that it can start before any aggregator (against an empty store it answers
 * zeros, not errors).
 */
@Command(name = "serve", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Serves the stats API, the tracking snippet and the dashboard over a store.")
public final class ServeCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Mixin
    StoreOptions store;

    @Mixin
    HttpOptions http;

    @Override
    public Integer call() throws Exception {
        store.validate(spec);
        Aggregator.migrate(store.db);
        HikariDataSource pool = store.openPool("tally-serve", 4);
        Metrics metrics = new Metrics();
        WebServer web = new WebServer(http, metrics.registry());
        int port;
        try {
            new StatsApi(pool).routes(web);
            Health health = new Health().add("db", Health.database(pool));
            web.adminRoute("/health", r -> health.handle(web, r));
            web.adminRoute("/metrics", metrics::handle);
            port = web.start(http.bind, http.port);
        } catch (RuntimeException e) {
            web.close(Duration.ZERO);
            pool.close();
            throw e;
        }
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            // Finish the answers in flight, then let go of the store.
            web.close(Duration.ofSeconds(5));
            pool.close();
            stopped.countDown();
        }, "serve-shutdown"));
        System.out.println("serving http://" + http.bind + ":" + port + "/");
        if (web.adminPort() >= 0) {
            System.out.println("health and metrics on http://" + http.adminBind + ":" + web.adminPort() + "/");
        }
        System.out.flush();
        stopped.await();
        return 0;
    }
}
