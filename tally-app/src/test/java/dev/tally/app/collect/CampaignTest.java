package dev.tally.app.collect;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tally.app.event.EventFields;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

/** The campaign named by a page URL's query string. */
class CampaignTest {

    @ParameterizedTest
    @CsvSource(delimiter = '|', nullValues = "null", value = {
            "/x?utm_source=news&utm_medium=email&utm_campaign=launch | news | email | launch",
            "/x?utm_campaign=Winter+Sale%20%E2%82%AC&x=1#utm_source=fragment | null | null | Winter Sale €",
            "/x?ref=producthunt | producthunt | null | null",
            "/x?source=hn&ref=other | other | null | null",
            "/x?source=hn | hn | null | null",
            "/x?ref=a&utm_source=b | b | null | null",
            "/x?utm_source=first&utm_source=second | first | null | null",
            "/x?utm_source=%zz&utm_medium=ok | null | ok | null",
            "/x?utm_source=%00bad&utm_medium=%E9 | null | null | null",
            "/x?utm_source=+++&utm_medium= | null | null | null",
            "/x?utm_source=caf\u00e9 | caf\u00e9 | null | null",
            "/x?utm_source | null | null | null",
            "/x | null | null | null"})
    void campaignParametersAreReadFromTheQuery(String path, String source, String medium, String campaign) {
        assertThat(Campaign.of(path)).isEqualTo(new Campaign(source, medium, campaign));
    }

    @Test
    void longValuesAreCut() {
        assertThat(Campaign.of("/x?utm_campaign=" + "a".repeat(5000)).campaign()).hasSize(EventFields.MAX_CAMPAIGN);
        assertThat(Campaign.of(null)).isEqualTo(Campaign.NONE);
    }
}
