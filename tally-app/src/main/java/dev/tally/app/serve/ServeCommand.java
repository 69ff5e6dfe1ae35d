package dev.tally.app.serve;

import com.zaxxer.hikari.HikariDataSource;
import dev.tally.app.HttpOptions;
import dev.tally.app.Lifecycle;
import dev.tally.app.StoreOptions;
import dev.tally.app.aggregate.Aggregator;
import dev.tally.app.http.Health;
import dev.tally.app.http.Metrics;
import dev.tally.app.http.WebServer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
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

    @Mixin
    AccessOptions access;

    @Mixin
    GoalOptions goals;

    @Override
    public Integer call() throws Exception {
        store.validate(spec);
        Access readers = access.access(spec);
        List<Goal> conversions = goals.goals(spec);
        Aggregator.migrate(store.db);
        Lifecycle life = new Lifecycle("serve");
        int port;
        WebServer web;
        try {
            HikariDataSource pool = store.openPool("tally-serve", 4);
            life.started(pool, pool::close);
            Metrics metrics = new Metrics();
            // Stopped first: the answers in flight finish, then the store is let go.
            WebServer server = new WebServer(http, metrics.registry());
            web = life.started(server, () -> server.close(Duration.ofSeconds(5)));
            new StatsApi(pool, readers, conversions).routes(web);
            Health health = new Health().add("db", Health.database(pool));
            web.adminRoute("/health", r -> health.handle(web, r));
            web.adminRoute("/metrics", metrics::handle);
            port = web.start(http.bind, http.port);
        } catch (RuntimeException | Error e) {
            life.stopAll();
            throw e;
        }
        List<String> ready = new ArrayList<>(List.of("serving http://" + http.bind + ":" + port + "/"));
        if (web.adminPort() >= 0) {
            ready.add("health and metrics on http://" + http.adminBind + ":" + web.adminPort() + "/");
        }
        return life.awaitStop(() -> null, ready, null);
    }
}
