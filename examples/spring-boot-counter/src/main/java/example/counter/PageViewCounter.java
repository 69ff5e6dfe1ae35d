package example.counter;

import dev.tally.consumer.Batch;
import dev.tally.consumer.Message;
import dev.tally.spring.TallyListener;
import java.util.HashMap;
import java.util.Map;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Component;

/** Counts page views from the topic {@code pageviews} (a path per record) into PostgreSQL, exactly once. */
@SpringBootApplication
public class PageViewCounter {

    public static void main(String[] args) {
        SpringApplication.run(PageViewCounter.class, args);
    }

    @Component
    static class Views {
        private final JdbcTemplate jdbc;

        Views(JdbcTemplate jdbc) {
            this.jdbc = jdbc;
        }

        /** Runs in the transaction that also stores the offsets: a view is counted once, crash or not. */
        @TallyListener
        void count(Batch<String> batch) {
            Map<String, Integer> views = new HashMap<>();
            for (Message<String> m : batch) {
                if (m.value() == null || !m.value().startsWith("/")) {
                    batch.reject(m, "not a path");
                } else {
                    views.merge(m.value(), 1, Integer::sum);
                }
            }
            views.forEach((path, n) -> jdbc.update(
                    "INSERT INTO page_views (path, views) VALUES (?, ?) ON CONFLICT (path) DO UPDATE SET views = page_views.views + EXCLUDED.views",
                    path, n));
        }
    }
}
