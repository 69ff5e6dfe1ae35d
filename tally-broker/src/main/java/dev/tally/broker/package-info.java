/**
 * A real Apache Kafka broker in KRaft mode, started from the official Kafka jars: no mock, no
 * container.
 *
 * <ul>
 *   <li>{@link dev.tally.broker.KafkaBroker}: one node inside this JVM ({@code bin/tally run}, tests);</li>
 *   <li>{@link dev.tally.broker.BrokerMain}: the same node as a command ({@code bin/tally broker});</li>
 *   <li>{@link dev.tally.broker.KafkaBrokerProcess}: one node in a child JVM that a test can kill,
 *       stop, freeze and restart;</li>
 *   <li>{@link dev.tally.broker.KafkaCluster}: N such nodes forming one cluster;</li>
 *   <li>{@link dev.tally.broker.ChildJvm}: any main class in a child JVM with this JVM's classpath.</li>
 * </ul>
 */
package dev.tally.broker;
