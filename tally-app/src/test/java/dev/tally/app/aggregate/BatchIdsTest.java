package dev.tally.app.aggregate;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class BatchIdsTest {

    @Test
    void anIdIsFoundOnlyForTheSameInstancesOfEveryPart() {
        BatchIds ids = new BatchIds(8);
        String site = "blog";
        String path = "/a";
        ids.put(site, path, null, 7);

        assertThat(ids.get(site, path, null)).isEqualTo(7);
        // Equal text in another instance is not the key: the caller asks the dictionary.
        assertThat(ids.get(site, new String(path), null)).isZero();
        assertThat(ids.get(new String(site), path, null)).isZero();
        assertThat(ids.get(site, path, "x")).isZero();
        assertThat(ids.get(path, site, null)).isZero();
    }

    @Test
    void keysSharingASlotNeverGetEachOthersIds() {
        // Two slots and many keys: most share one, and the last put wins it.
        BatchIds ids = new BatchIds(2);
        String site = "blog";
        String[] paths = new String[50];
        for (int i = 0; i < paths.length; i++) {
            paths[i] = "/p" + i;
            ids.put(site, paths[i], null, i + 1);
        }
        int found = 0;
        for (int i = 0; i < paths.length; i++) {
            int id = ids.get(site, paths[i], null);
            if (id != 0) {
                assertThat(id).isEqualTo(i + 1);
                found++;
            }
        }
        assertThat(found).isBetween(1, 2);
    }
}
