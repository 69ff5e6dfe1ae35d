package dev.tally.spring;

import jakarta.persistence.Entity;
import jakarta.persistence.Id;
import jakarta.persistence.Table;

/** A counted word, as a JPA entity. */
@Entity
@Table(name = "words")
public class Word {

    @Id
    private String word;

    private long n;

    protected Word() {}

    Word(String word, long n) {
        this.word = word;
        this.n = n;
    }

    void increment() {
        n++;
    }
}
