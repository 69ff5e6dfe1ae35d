package dev.tally.app.aggregate;

import dev.tally.app.event.PageView;
import dev.tally.consumer.Batch;
import dev.tally.consumer.BatchHandler;
import dev.tally.consumer.Message;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Turns a batch of custom events ({@code <topic>.events}) into the event tables of a generation:
 * events per page, day, segment ({@link Segments}: site, referrer host and event format v2's
 * dimensions) and name ({@code event_days}), events per site, day, name,
 * property and value, a row per partition of the topic ({@code event_props}), and who sent an
 * event of a name on a site that day ({@code event_visitors}, for goal conversions). Reduced in
 * memory first and written in key order, one row per distinct key, as {@link PageViewAggregator}
 * does. A record without an {@code event} field is a page view in the wrong topic: it is
 * dead-lettered, never counted as an event. One instance serves one consumer.
 */
public final class EventAggregator implements BatchHandler<PageView> {

    private static final long DAY = PageViewAggregator.DAY;

    private record EventDay(int page, int day, int segment, String name) implements Comparable<EventDay> {
        private static final Comparator<EventDay> ORDER = Comparator.comparingInt(EventDay::page).thenComparingInt(EventDay::day)
                .thenComparingInt(EventDay::segment).thenComparing(EventDay::name);

        @Override
        public int compareTo(EventDay o) {
            return ORDER.compare(this, o);
        }
    }

    private record PropDay(String site, int day, String name, String prop, String value, int partition) implements Comparable<PropDay> {
        private static final Comparator<PropDay> ORDER = Comparator.comparing(PropDay::site).thenComparingInt(PropDay::day)
                .thenComparing(PropDay::name).thenComparing(PropDay::prop).thenComparing(PropDay::value).thenComparingInt(PropDay::partition);

        @Override
        public int compareTo(PropDay o) {
            return ORDER.compare(this, o);
        }
    }

    private record Sender(String site, int day, String name, VisitorId visitor) implements Comparable<Sender> {
        private static final Comparator<Sender> ORDER = Comparator.comparing(Sender::site).thenComparingInt(Sender::day)
                .thenComparing(Sender::name).thenComparing(Sender::visitor);

        @Override
        public int compareTo(Sender o) {
            return ORDER.compare(this, o);
        }
    }

    private final PageIds pages = new PageIds();
    private final Segments segments = new Segments();
    private final GenerationTarget target;

    /** An aggregator that counts into {@code target}'s generation. */
    public EventAggregator(GenerationTarget target) {
        this.target = target;
    }

    @Override
    public void handle(Batch<PageView> batch, Connection connection) throws SQLException {
        Generation g = target.begin(connection);
        List<Message<PageView>> events = new ArrayList<>(batch.size());
        for (Message<PageView> m : batch) {
            PageView v = m.value();
            if (v.event() == null) {
                batch.reject(m, "not a custom event: no event field (page views belong on the page-view topic)");
            } else if (v.timestamp() >= PageViewAggregator.MAX_TIMESTAMP) {
                batch.reject(m, "ts is too far in the future");
            } else if (target.counts(m)) {
                events.add(m);
            }
        }
        if (events.isEmpty()) {
            return;
        }
        pages.confirm(connection);
        segments.confirm(connection);
        int[] ids = pageIds(events, connection);
        int[] segments = segmentIds(events, connection);

        Map<EventDay, long[]> days = new TreeMap<>();
        Map<PropDay, long[]> props = new TreeMap<>();
        Set<Sender> senders = new TreeSet<>();
        for (int i = 0; i < events.size(); i++) {
            Message<PageView> m = events.get(i);
            PageView v = m.value();
            int day = (int) (v.timestamp() / DAY);
            days.computeIfAbsent(new EventDay(ids[i], day, segments[i], v.event()), k -> new long[1])[0]++;
            for (Map.Entry<String, String> p : v.props().entrySet()) {
                props.computeIfAbsent(new PropDay(v.site(), day, v.event(), p.getKey(), p.getValue(), m.partition()), k -> new long[1])[0]++;
            }
            if (v.visitor() != null && !v.visitor().isEmpty()) {
                senders.add(new Sender(v.site(), day, v.event(), VisitorId.of(v.visitor())));
            }
        }

        Store store = Store.of(connection);
        String eventDays = g.table("event_days");
        try (PreparedStatement ps = connection.prepareStatement(store.upsertAdd(eventDays, "events", "page", "day", "segment", "name"))) {
            for (Map.Entry<EventDay, long[]> e : days.entrySet()) {
                ps.setInt(1, e.getKey().page());
                ps.setInt(2, e.getKey().day());
                ps.setInt(3, e.getKey().segment());
                ps.setString(4, e.getKey().name());
                ps.setLong(5, e.getValue()[0]);
                ps.addBatch();
            }
            ps.executeBatch();
        }
        if (!props.isEmpty()) {
            String eventProps = g.table("event_props");
            try (PreparedStatement ps = connection.prepareStatement(store.upsertAdd(eventProps, "events", "site", "day", "partition_id", "name", "prop", "value"))) {
                for (Map.Entry<PropDay, long[]> e : props.entrySet()) {
                    PropDay k = e.getKey();
                    ps.setString(1, k.site());
                    ps.setInt(2, k.day());
                    ps.setInt(3, k.partition());
                    ps.setString(4, k.name());
                    ps.setString(5, k.prop());
                    ps.setString(6, k.value());
                    ps.setLong(7, e.getValue()[0]);
                    ps.addBatch();
                }
                ps.executeBatch();
            }
        }
        if (!senders.isEmpty()) {
            try (PreparedStatement ps = connection.prepareStatement(store.insertIfAbsent(g.table("event_visitors"), "site", "day", "name", "visitor"))) {
                for (Sender s : senders) {
                    ps.setString(1, s.site());
                    ps.setInt(2, s.day());
                    ps.setString(3, s.name());
                    ps.setBytes(4, s.visitor().bytes());
                    ps.addBatch();
                }
                ps.executeBatch();
            }
        }
    }

    /** The segment id of each event (its site, referrer host and dimensions), in order, creating the segments not seen before. */
    private int[] segmentIds(List<Message<PageView>> events, Connection connection) throws SQLException {
        int[] ids = new int[events.size()];
        Segments.Segment[] keys = new Segments.Segment[ids.length];
        Set<Segments.Segment> missing = new LinkedHashSet<>();
        for (int i = 0; i < ids.length; i++) {
            keys[i] = Segments.of(events.get(i).value());
            ids[i] = segments.cached(keys[i]);
            if (ids[i] == 0) {
                missing.add(keys[i]);
            }
        }
        if (!missing.isEmpty()) {
            Map<Segments.Segment, Integer> created = segments.resolve(connection, missing);
            for (int i = 0; i < ids.length; i++) {
                if (ids[i] == 0) {
                    ids[i] = created.get(keys[i]);
                }
            }
        }
        return ids;
    }

    /** The page id of each event, in order, creating the pages not seen before. */
    private int[] pageIds(List<Message<PageView>> events, Connection connection) throws SQLException {
        int[] ids = new int[events.size()];
        Set<PageIds.Page> missing = new LinkedHashSet<>();
        for (int i = 0; i < ids.length; i++) {
            PageView v = events.get(i).value();
            PageIds.Page p = new PageIds.Page(v.site(), v.path());
            ids[i] = pages.cached(p);
            if (ids[i] == 0) {
                missing.add(p);
            }
        }
        if (!missing.isEmpty()) {
            Map<PageIds.Page, Integer> created = new HashMap<>(pages.resolve(connection, missing));
            for (int i = 0; i < ids.length; i++) {
                if (ids[i] == 0) {
                    PageView v = events.get(i).value();
                    ids[i] = created.get(new PageIds.Page(v.site(), v.path()));
                }
            }
        }
        return ids;
    }
}
