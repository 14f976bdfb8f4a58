package sandbox

import (
	"strings"
	"testing"
	"time"
)

const timeoutForTest = 5 * time.Second

// svcat v0.3's `get classes`, as svcat prints it today: the seed's columns
// plus BROKER.
const v03Classes = "      NAME       NAMESPACE      BROKER      DESCRIPTION   \n" +
	"+--------------+-----------+--------------+--------------+\n" +
	"  cloudkarafka               cloudkarafka   CloudKarafka  \n"

func TestSameColumns(t *testing.T) {
	c := sameColumns(seedSvcatClasses)
	if err := c.fn(v03Classes); err != nil {
		t.Errorf("v0.3's extra BROKER column refused: %v", err)
	}
	if err := c.fn(seedSvcatClasses + "\n\n"); err != nil {
		t.Errorf("the seed's own output refused: %v", err)
	}
	for name, out := range map[string]string{
		"other description": strings.Replace(v03Classes, "CloudKarafka  ", "Kafka         ", 1),
		"a namespace":       strings.Replace(v03Classes, "  cloudkarafka               ", "  cloudkarafka   default     ", 1),
		"two rows":          v03Classes + "  other                      cloudkarafka   Other         \n",
		"no DESCRIPTION":    "      NAME       NAMESPACE\n+--------------+-----------+\n  cloudkarafka\n",
		"not a table":       "error: no classes\n",
	} {
		if err := c.fn(out); err == nil {
			t.Errorf("%s: accepted\n%s", name, out)
		}
	}
	if err := sameColumns(seedSvcatPlans).fn("  NAME   NAMESPACE      CLASS        DESCRIPTION    \n" +
		"+------+-----------+--------------+----------------+\n" +
		"  duck               cloudkarafka   Developer Duck  \n"); err != nil {
		t.Errorf("get plans: %v", err)
	}
}

func TestExactlyIgnoresTrailingBlanksAndEmptyLines(t *testing.T) {
	c := exactly(seedClassesColumns)
	if err := c.fn("CLASS          DESCRIPTION   \n\ncloudkarafka   CloudKarafka\n"); err != nil {
		t.Error(err)
	}
	if err := c.fn("CLASS          DESCRIPTION\ncloudkarafka   Kafka\n"); err == nil {
		t.Error("a different description passed")
	}
}

func TestRowFieldAndSecretKeys(t *testing.T) {
	table := "NAME         CLASS                              PLAN   STATUS   AGE\n" +
		"demo-kafka   ClusterServiceClass/cloudkarafka   duck   Ready    46s\n"
	if err := row("demo-kafka", "ClusterServiceClass/cloudkarafka", "duck", "Ready").fn(table); err != nil {
		t.Error(err)
	}
	if err := row("demo-kafka", "ClusterServiceClass/cloudkarafka", "duck", "Ready").fn(strings.Replace(table, "Ready ", "Failed", 1)); err == nil {
		t.Error("a Failed row passed")
	}
	describe := "  Name:        demo-kafka\n  Status:      Ready - The instance was provisioned successfully @ 2019-01-06\n"
	if err := field("Status:", "Ready - The instance was provisioned successfully @ ").fn(describe); err != nil {
		t.Error(err)
	}
	if err := field("Plan:", "duck").fn(describe); err == nil {
		t.Error("a missing field passed")
	}
	secret := "Data\n====\npassword:     32 bytes\ntopicPrefix:  9 bytes\nca:           0 bytes\n"
	err := secretKeys([]string{"password", "topicPrefix", "ca", "name"}).fn(secret)
	if err == nil || !strings.Contains(err.Error(), "ca, name") {
		t.Errorf("empty ca and missing name: %v", err)
	}
}

func TestStreamCollect(t *testing.T) {
	st := &stream{lines: make(chan string, 16), cancel: func() {}}
	for _, l := range []string{":", "", "data:Hello", "", "data:two", "data:lines", "", "data:more"} {
		st.lines <- l
	}
	got, raw, err := st.collect(t.Context(), 2, timeoutForTest)
	if err != nil || strings.Join(got, "|") != "Hello|two\nlines" {
		t.Errorf("events %q, %v", got, err)
	}
	if !strings.HasPrefix(raw, ":\n\ndata:Hello\n\n") {
		t.Errorf("raw %q", raw)
	}
	close(st.lines)
	if _, _, err := st.collect(t.Context(), 1, timeoutForTest); err == nil {
		t.Error("an ended stream counted as complete")
	}
}
