package dev.tally.spring;

import dev.tally.consumer.BatchHandler;
import dev.tally.consumer.RecordDecoder;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Metrics;
import jakarta.persistence.EntityManagerFactory;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import javax.sql.DataSource;
import org.hibernate.SessionFactory;
import org.springframework.beans.factory.ListableBeanFactory;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.boot.health.contributor.HealthIndicator;
import org.springframework.boot.jdbc.autoconfigure.DataSourceAutoConfiguration;
import org.springframework.context.ApplicationEventPublisher;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.orm.jpa.EntityManagerHolder;
import org.springframework.util.function.SingletonSupplier;

/**
 * Runs a {@link dev.tally.consumer.TallyConsumer} on the application's {@code DataSource}, from
 * the {@code tally.consumer.*} properties ({@link TallyProperties}) and the application's handler
 * (a {@link BatchHandler} bean or a {@link TallyListener} method). See
 * {@link ManagedTallyConsumer} for the life cycle and {@link TallyHealthIndicator} for health.
 * Off with {@code tally.consumer.enabled=false}.
 */
@AutoConfiguration(after = DataSourceAutoConfiguration.class,
        afterName = "org.springframework.boot.hibernate.autoconfigure.HibernateJpaAutoConfiguration")
@ConditionalOnClass(DataSource.class)
@ConditionalOnBean(DataSource.class)
@ConditionalOnProperty(prefix = "tally.consumer", name = "enabled", matchIfMissing = true)
@EnableConfigurationProperties(TallyProperties.class)
public class TallyAutoConfiguration {

    @Bean
    static TallyListenerMethods tallyListenerMethods() {
        return new TallyListenerMethods();
    }

    @Bean
    @ConditionalOnMissingBean
    ManagedTallyConsumer tallyConsumer(TallyProperties properties, DataSource dataSource, ListableBeanFactory beans,
            ObjectProvider<RecordDecoder<?>> decoder, ObjectProvider<TransactionBinding> bindings,
            ObjectProvider<MeterRegistry> meterRegistry, ApplicationEventPublisher events) {
        TallyListenerMethods methods = beans.getBean(TallyListenerMethods.class);
        ManagedTallyConsumer.HandlerSource handlers = () -> {
            Map<String, BatchHandler<Object>> all = new LinkedHashMap<>();
            beans.getBeansOfType(BatchHandler.class).forEach((name, h) -> all.put(name, castHandler(h)));
            methods.found().forEach(f -> all.put(f.beanName() + "." + f.method().getName(), f.handler()));
            return all;
        };
        List<TransactionBinding> all = new ArrayList<>();
        all.add(new JdbcTransactionBinding(dataSource));
        bindings.orderedStream().forEach(all::add);
        return new ManagedTallyConsumer(properties, dataSource, handlers, decoder.getIfUnique(() -> utf8()),
                all, meterRegistry.getIfUnique(() -> Metrics.globalRegistry), events);
    }

    @SuppressWarnings("unchecked")
    private static BatchHandler<Object> castHandler(BatchHandler<?> h) {
        return (BatchHandler<Object>) h;
    }

    /** Values as UTF-8 text; a record without a value decodes to null. */
    private static RecordDecoder<String> utf8() {
        return record -> record.value() == null ? null : new String(record.value(), StandardCharsets.UTF_8);
    }

    /** The injected {@code EntityManager} writes through the batch's transaction. */
    @Configuration(proxyBeanMethods = false)
    @ConditionalOnClass({EntityManagerFactory.class, EntityManagerHolder.class, SessionFactory.class})
    static class JpaBindingConfiguration {

        @Bean
        TransactionBinding tallyJpaBinding(ObjectProvider<EntityManagerFactory> entityManagerFactory) {
            // Looked up at the first batch, when every bean exists; an application without JPA binds nothing.
            SingletonSupplier<TransactionBinding> binding = SingletonSupplier.of(() -> {
                EntityManagerFactory emf = entityManagerFactory.getIfUnique();
                return emf == null ? NOTHING : new JpaTransactionBinding(emf);
            });
            return connection -> binding.obtain().open(connection);
        }

        private static final TransactionBinding.Scope NO_SCOPE = new TransactionBinding.Scope() {
            @Override
            public void beforeReturn() {
            }

            @Override
            public void close() {
            }
        };

        private static final TransactionBinding NOTHING = connection -> NO_SCOPE;
    }

    /** The consumer's state, lag and halted partitions in Actuator's health. */
    @Configuration(proxyBeanMethods = false)
    @ConditionalOnClass(HealthIndicator.class)
    static class HealthConfiguration {

        @Bean
        @ConditionalOnMissingBean(name = "tallyHealthIndicator")
        TallyHealthIndicator tallyHealthIndicator(ManagedTallyConsumer consumer) {
            return new TallyHealthIndicator(consumer);
        }
    }
}
