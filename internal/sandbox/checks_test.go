package sandbox

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
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

func TestParseKFlags(t *testing.T) {
	f, err := parseKFlags([]string{"create", "-n", "osb", "secret", "generic", "s", "--from-literal=a=b", "--from-literal=c=d=e"})
	if err != nil || f.namespace != "osb" || strings.Join(f.pos, " ") != "create secret generic s" || strings.Join(f.literals, ",") != "a=b,c=d=e" {
		t.Errorf("%+v %v", f, err)
	}
	f, err = parseKFlags([]string{"get", "x", "-o", "custom-columns=A:.a", "--namespace=ns"})
	if err != nil || f.output != "custom-columns=A:.a" || f.namespace != "ns" {
		t.Errorf("%+v %v", f, err)
	}
	if f, _ := parseKFlags([]string{"get", "x"}); f.namespace != "default" {
		t.Errorf("default namespace %q", f.namespace)
	}
	for _, args := range [][]string{{"get", "-n"}, {"get", "x", "--all-namespaces"}} {
		if _, err := parseKFlags(args); err == nil {
			t.Errorf("%v accepted", args)
		}
	}
}

func TestCustomColumns(t *testing.T) {
	items := []unstructured.Unstructured{
		{Object: map[string]any{"spec": map[string]any{"externalName": "cloudkarafka", "description": "CloudKarafka"}}},
		{Object: map[string]any{"spec": map[string]any{"externalName": "x"}}},
	}
	var out bytes.Buffer
	if err := customColumns(&out, "CLASS:.spec.externalName,DESCRIPTION:.spec.description", items); err != nil {
		t.Fatal(err)
	}
	want := "CLASS          DESCRIPTION\ncloudkarafka   CloudKarafka\nx              <none>\n"
	if out.String() != want {
		t.Errorf("got:\n%s\nwant:\n%s", out.String(), want)
	}
	if err := customColumns(&out, "CLASS", items); err == nil {
		t.Error("a column without a path was accepted")
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
