package dev.tally.app.aggregate;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class StoreTest {

    @Test
    void mysqlUrlsGoThroughMariaDbConnectorJInStrictMode() {
        assertThat(Store.url("jdbc:mysql://db:3306/tally?user=t")).isEqualTo("jdbc:mariadb://db:3306/tally?user=t&jdbcCompliantTruncation=true&useAffectedRows=true");
        assertThat(Store.url("jdbc:mariadb://db/tally")).isEqualTo("jdbc:mariadb://db/tally?jdbcCompliantTruncation=true&useAffectedRows=true");
        assertThat(Store.url(Store.url("jdbc:MySQL://db/tally"))).isEqualTo("jdbc:mariadb://db/tally?jdbcCompliantTruncation=true&useAffectedRows=true");
        assertThat(Store.url("jdbc:mariadb://db/tally?useAffectedRows=false&user=t"))
                .isEqualTo("jdbc:mariadb://db/tally?useAffectedRows=true&user=t&jdbcCompliantTruncation=true");
        assertThat(Store.url("jdbc:postgresql://db/tally")).isEqualTo("jdbc:postgresql://db/tally");
        assertThat(Store.url("jdbc:sqlite:x.db")).isEqualTo("jdbc:sqlite:x.db");
        assertThat(Store.of("jdbc:oracle:thin:@x")).isNull();
        assertThat(Aggregator.writeUrl("jdbc:mysql://db/tally")).isEqualTo("jdbc:mariadb://db/tally?jdbcCompliantTruncation=true&useAffectedRows=true&useBulkStmts=true");
    }

    @Test
    void upsertsAddTheCountOnEveryStore() {
        assertThat(Store.MYSQL.upsertAdd("page_hours_g2", "views", "page", "hour"))
                .isEqualTo("INSERT INTO page_hours_g2 (page, hour, views) VALUES (?, ?, ?)"
                        + " ON DUPLICATE KEY UPDATE views = views + VALUES(views)");
        assertThat(Store.POSTGRESQL.upsertAdd("page_totals", "views", "page"))
                .isEqualTo("INSERT INTO page_totals (page, views) VALUES (?, ?)"
                        + " ON CONFLICT (page) DO UPDATE SET views = page_totals.views + excluded.views");
        assertThat(Store.MYSQL.insertIfAbsent("pages", "site", "path"))
                .isEqualTo("INSERT INTO pages (site, path) VALUES (?, ?) ON DUPLICATE KEY UPDATE site = pages.site");
        assertThat(Store.SQLITE.insertIfAbsent("pages", "site", "path"))
                .isEqualTo("INSERT INTO pages (site, path) VALUES (?, ?) ON CONFLICT DO NOTHING");
        assertThat(Store.MYSQL.upsertAdd("page_days", java.util.List.of("views", "visitors"), "page", "day"))
                .isEqualTo("INSERT INTO page_days (page, day, views, visitors) VALUES (?, ?, ?, ?)"
                        + " ON DUPLICATE KEY UPDATE views = views + VALUES(views), visitors = visitors + VALUES(visitors)");
        assertThat(Store.SQLITE.upsertAdd("page_days", java.util.List.of("views", "visitors"), "page", "day"))
                .isEqualTo("INSERT INTO page_days (page, day, views, visitors) VALUES (?, ?, ?, ?) ON CONFLICT (page, day)"
                        + " DO UPDATE SET views = page_days.views + excluded.views, visitors = page_days.visitors + excluded.visitors");
    }

    @Test
    void mysqlCastsToSigned() {
        assertThat(Store.MYSQL.sql("SELECT CAST(SUM(views) AS BIGINT) FROM t")).isEqualTo("SELECT CAST(SUM(views) AS SIGNED) FROM t");
        assertThat(Store.POSTGRESQL.sql("SELECT CAST(SUM(views) AS BIGINT) FROM t")).isEqualTo("SELECT CAST(SUM(views) AS BIGINT) FROM t");
        assertThat(Store.MYSQL.forShare()).isEqualTo(" LOCK IN SHARE MODE");
        assertThat(Store.MYSQL.migrations()).isEqualTo("classpath:db/mysql");
        // A backslash between quotes would open an escape in MySQL's string literals.
        assertThat(Store.MYSQL.sql("p.path LIKE ? ESCAPE '\\'")).isEqualTo("p.path LIKE ? ESCAPE CHAR(92)");
        assertThat(Store.SQLITE.sql("p.path LIKE ? ESCAPE '\\'")).isEqualTo("p.path LIKE ? ESCAPE '\\'");
    }
}
