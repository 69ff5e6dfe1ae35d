/**
 * Tally's implementation: unsupported, may change in any release. Use {@code dev.tally.consumer}.
 */
package dev.tally.consumer.internal;
