package dev.tally.dist;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import javax.xml.parsers.DocumentBuilderFactory;
import org.junit.jupiter.api.Test;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.Node;
import org.w3c.dom.NodeList;

/**
 * tally-bom has no parent (so that importing it imports nothing else): its version is written
 * twice, and must stay the project's; every module it manages must exist and be at that version.
 */
class BomTest {

    private static final Path ROOT = Path.of("..").toAbsolutePath().normalize();

    @Test
    void theBomIsAtTheProjectVersionAndManagesOnlyModulesOfTheProject() throws Exception {
        Document root = parse(ROOT.resolve("pom.xml"));
        Document bom = parse(ROOT.resolve("tally-bom").resolve("pom.xml"));
        String version = child(root.getDocumentElement(), "version");
        assertThat(child(bom.getDocumentElement(), "groupId")).isEqualTo(child(root.getDocumentElement(), "groupId"));
        assertThat(child(bom.getDocumentElement(), "version")).isEqualTo(version);

        List<String> modules = new ArrayList<>();
        NodeList ms = root.getElementsByTagName("module");
        for (int i = 0; i < ms.getLength(); i++) {
            modules.add(ms.item(i).getTextContent().strip());
        }
        NodeList deps = bom.getElementsByTagName("dependency");
        assertThat(deps.getLength()).isGreaterThanOrEqualTo(3);
        for (int i = 0; i < deps.getLength(); i++) {
            Element d = (Element) deps.item(i);
            assertThat(modules).contains(child(d, "artifactId"));
            assertThat(child(d, "version")).isEqualTo("${project.version}");
        }
    }

    private static Document parse(Path pom) throws Exception {
        return DocumentBuilderFactory.newInstance().newDocumentBuilder().parse(pom.toFile());
    }

    /** The text of {@code parent}'s direct child {@code name}. */
    private static String child(Element parent, String name) {
        for (Node n = parent.getFirstChild(); n != null; n = n.getNextSibling()) {
            if (n instanceof Element e && e.getTagName().equals(name)) {
                return e.getTextContent().strip();
            }
        }
        throw new AssertionError(parent.getTagName() + " has no " + name);
    }
}
