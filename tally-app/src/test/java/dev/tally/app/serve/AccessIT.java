package dev.tally.app.serve;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tally.app.aggregate.Aggregator;
import dev.tally.app.http.WebServer;
import dev.tally.testkit.SqliteDatabase;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParameterException;

/**
 * A private dashboard over a real store: without the password or a token every stats query and
 * the dashboard are 401 with a Basic challenge; with either, 200; the widget, the snippet and the
 * sites made public stay open to all.
 */
class AccessIT {

    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private static final String PASSWORD = "correct horse battery staple";
    private static final String TOKEN = "tok-3f9a1c";
    private static final List<String> PRIVATE = List.of("/", "/?site=default", "/api/top", "/api/top?site=default",
            "/api/series", "/api/series?path=/a&bucket=day", "/api/referrers", "/api/top?site=%C3", "/api/top?limit=0",
            "/api/top?site=blog&site=news", "/api/summary", "/api/breakdown?dimension=browser", "/api/goals", "/api/now",
            "/api/series?bucket=day&country=DE", "/api/props?event=signup", "/api/props?event=signup&prop=plan", "/api/sites",
            "/api/sites?site=default");

    @RegisterExtension
    final SqliteDatabase sqlite = new SqliteDatabase();

    @TempDir
    Path dir;

    private WebServer web;

    @AfterEach
    void stop() {
        if (web != null) {
            web.close();
        }
    }

    private String serve(String... args) throws Exception {
        Aggregator.migrate(sqlite.jdbcUrl());
        AccessOptions options = new AccessOptions();
        CommandSpec spec = CommandSpec.forAnnotatedObject(options);
        new CommandLine(spec).parseArgs(args);
        web = new WebServer();
        new StatsApi(sqlite.dataSource(), options.access(spec)).routes(web);
        return "http://127.0.0.1:" + web.start("127.0.0.1", 0);
    }

    private static HttpResponse<String> get(String base, String path, String authorization) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(10));
        if (authorization != null) {
            b.header("Authorization", authorization);
        }
        return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    private static String basic(String user, String password) {
        return "Basic " + Base64.getEncoder().encodeToString((user + ":" + password).getBytes(UTF_8));
    }

    @Test
    void withoutTheSecretEveryStatsQueryAndTheDashboardAre401AndWithItTheyAnswer() throws Exception {
        Path tokens = Files.writeString(dir.resolve("tokens"), "# readers of the stats\n\n  " + TOKEN + "  \n");
        String base = serve("--dashboard-password", PASSWORD, "--token-file", tokens.toString());
        for (String path : PRIVATE) {
            for (String wrong : new String[] {null, basic("owner", "wrong"), "Bearer wrong", "Bearer " + PASSWORD + "x",
                    basic("owner", ""), "Basic !!!", "Digest " + PASSWORD, basic(PASSWORD, "x")}) {
                HttpResponse<String> r = get(base, path, wrong);
                assertThat(r.statusCode()).as(path + " with " + wrong).isEqualTo(401);
                assertThat(r.headers().firstValue("WWW-Authenticate")).as(path).contains("Basic realm=\"Tally\", charset=\"UTF-8\"");
                assertThat(r.body()).as(path).contains("private").doesNotContain(PASSWORD).doesNotContain(TOKEN);
            }
        }
        for (String path : PRIVATE) {
            int expected = path.contains("%C3") || path.contains("limit=0") || path.contains("&site=") ? 400 : 200;
            for (String right : new String[] {basic("owner", PASSWORD), basic("", PASSWORD), "Bearer " + PASSWORD,
                    "Bearer " + TOKEN, basic("any", TOKEN), "bearer  " + TOKEN}) {
                HttpResponse<String> r = get(base, path, right);
                assertThat(r.statusCode()).as(path + " with " + right).isEqualTo(expected);
                if (expected == 200 && path.startsWith("/api/")) {
                    assertThat(r.headers().firstValue("Cache-Control")).as("no shared cache keeps private stats")
                            .contains(StatsApi.PRIVATE_CACHE);
                }
            }
        }
        // What a blog's readers load stays open.
        HttpResponse<String> widget = get(base, "/api/views?path=/a", null);
        assertThat(widget.statusCode()).isEqualTo(200);
        assertThat(widget.headers().firstValue("Cache-Control")).contains(StatsApi.API_CACHE);
        assertThat(get(base, "/tally.js", null).statusCode()).isEqualTo(200);
    }

    @Test
    void publicSitesAreOpenToAllAndTheOthersStayPrivate() throws Exception {
        String base = serve("--dashboard-password", PASSWORD, "--public-sites", "blog,default");
        assertThat(get(base, "/api/top?site=blog", null).statusCode()).isEqualTo(200);
        assertThat(get(base, "/api/top", null).statusCode()).as("the default site").isEqualTo(200);
        assertThat(get(base, "/?site=blog", null).statusCode()).isEqualTo(200);
        assertThat(get(base, "/api/top?site=news", null).statusCode()).isEqualTo(401);
        assertThat(get(base, "/?site=news", null).statusCode()).isEqualTo(401);
        assertThat(get(base, "/api/series?site=news&bucket=day", basic("o", PASSWORD)).statusCode()).isEqualTo(200);
        assertThat(get(base, "/api/props?site=blog&event=signup", null).statusCode()).isEqualTo(200);
        assertThat(get(base, "/api/props?site=news&event=signup", null).statusCode()).isEqualTo(401);

        // The list of sites is the owner's; without the secret it names only the public ones (no
        // 401, which would make a public dashboard ask for a password).
        try (Connection c = sqlite.dataSource().getConnection(); Statement s = c.createStatement()) {
            s.execute("INSERT INTO pages (id, site, path) VALUES (1, 'blog', '/a'), (2, 'news', '/b'), (3, 'shop', '/c')");
        }
        HttpResponse<String> anyone = get(base, "/api/sites", null);
        assertThat(anyone.statusCode()).isEqualTo(200);
        assertThat(anyone.body()).isEqualTo("{\"sites\":[\"blog\"]}");
        assertThat(anyone.headers().firstValue("Cache-Control")).contains(StatsApi.PRIVATE_CACHE);
        assertThat(get(base, "/api/sites?site=news", null).body()).isEqualTo("{\"sites\":[\"blog\"]}");
        assertThat(get(base, "/api/sites", "Bearer wrong").body()).isEqualTo("{\"sites\":[\"blog\"]}");
        assertThat(get(base, "/api/sites", basic("o", PASSWORD)).body()).isEqualTo("{\"sites\":[\"blog\",\"news\",\"shop\"]}");
    }

    @Test
    void withoutASecretEverythingIsOpenAsBefore() throws Exception {
        String base = serve();
        for (String path : List.of("/", "/api/top", "/api/series", "/api/referrers", "/api/views?path=/a", "/api/sites",
                "/api/props?event=signup")) {
            HttpResponse<String> r = get(base, path, null);
            assertThat(r.statusCode()).as(path).isEqualTo(200);
            if (path.startsWith("/api/")) {
                assertThat(r.headers().firstValue("Cache-Control")).contains(StatsApi.API_CACHE);
            }
        }
    }

    @Test
    void badOptionsAreBadUsage() throws Exception {
        Path empty = Files.writeString(dir.resolve("empty"), "# nothing yet\n");
        for (String[] args : List.of(new String[] {"--dashboard-password", " "}, new String[] {"--token-file", empty.toString()},
                new String[] {"--token-file", dir.resolve("missing").toString()}, new String[] {"--public-sites", "blog"},
                new String[] {"--dashboard-password", PASSWORD, "--public-sites", "no site!"})) {
            AccessOptions options = new AccessOptions();
            CommandSpec spec = CommandSpec.forAnnotatedObject(options);
            new CommandLine(spec).parseArgs(args);
            assertThatThrownBy(() -> options.access(spec)).as(String.join(" ", args)).isInstanceOf(ParameterException.class)
                    .message().doesNotContain(PASSWORD);
        }
    }
}
