package dev.tally.spring;

import dev.tally.consumer.Batch;
import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Marks the bean method that handles the consumer's batches, instead of a
 * {@link dev.tally.consumer.BatchHandler} bean. The method takes a {@link Batch}, and optionally
 * the transaction's {@link java.sql.Connection} after it:
 *
 * <pre>{@code
 * @Component
 * class PageCounter {
 *     private final JdbcTemplate jdbc;
 *
 *     @TallyListener
 *     void count(Batch<String> batch) {
 *         for (Message<String> m : batch) {
 *             jdbc.update("insert into views(path, n) values (?, 1) on conflict (path) do update set n = views.n + 1", m.value());
 *         }
 *     }
 * }
 * }</pre>
 *
 * <p>While it runs, the application's {@code JdbcTemplate}, {@code JdbcClient}, jOOQ
 * {@code DSLContext} and JPA {@code EntityManager} work on the transaction that also moves the
 * offsets; the rules of {@link dev.tally.consumer.BatchHandler} apply (throw to roll the batch
 * back, {@link Batch#reject} invalid records, never commit). There is one handler per
 * application: one {@code @TallyListener} method or one {@code BatchHandler} bean.
 */
@Target(ElementType.METHOD)
@Retention(RetentionPolicy.RUNTIME)
@Documented
public @interface TallyListener {
}
