package tenant

import (
	"context"
	"reflect"
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/svcat-io/svcat/internal/kafkabroker/catalog"
	"github.com/svcat-io/svcat/internal/kafkabroker/kafkatest"
)

func TestCheckID(t *testing.T) {
	tests := []struct {
		id string
		ok bool
	}{
		{"8f14e45f-ceea-467f-a0a6-0b6a2b0e1c7a", true},
		{"a-C9", true},
		{"a_b", false}, // would collide with "a"'s topic "b.x" under Kafka's '.'/'_' rule
		{"", false},
		{"a.b", false}, // would make prefixes overlap
		{"a/b", false},
		{"a b", false},
		{strings.Repeat("x", 100), true},
		{strings.Repeat("x", 101), false},
	}
	for _, tt := range tests {
		if err := CheckID("instance", tt.id); (err == nil) != tt.ok {
			t.Errorf("CheckID(%q) = %v", tt.id, err)
		}
	}
}

// No valid instance's prefix may be a prefix of another's, or PREFIXED
// ACLs of one tenant would cover the other's topics.
func TestPrefixesDoNotOverlap(t *testing.T) {
	n := Names{Base: "svcat-"}
	ids := []string{"a", "ab", "a-b", "abc", "b", "A"}
	for _, x := range ids {
		for _, y := range ids {
			if x != y && strings.HasPrefix(n.Prefix(y)+"topic", n.Prefix(x)) {
				t.Errorf("prefix of %q covers %q's topics", x, y)
			}
			if x != y && strings.HasPrefix(Normalise(n.Prefix(y)+"t.x"), Normalise(n.Prefix(x))) {
				t.Errorf("%q's topics can collide with %q's", x, y)
			}
			if x != y && strings.HasPrefix(n.User(y, "b"), n.Prefix(x)) {
				t.Errorf("deprovisioning %q would delete %q's user", x, y)
			}
		}
	}
	if got := n.User("i", "b"); got != "svcat-i.b" {
		t.Errorf("User = %q", got)
	}
}

func TestTopicsFor(t *testing.T) {
	l := catalog.Limits{MaxTopics: 5, MaxPartitions: 3, MaxRetentionHours: 48, MaxBytesPerTopic: 1 << 20}
	cfg := map[string]string{"max.message.bytes": "1024"}
	got := TopicsFor("p.", []catalog.TopicSpec{{Name: "a"}, {Name: "b", Partitions: 3, RetentionHours: 2}}, l, cfg)
	want := []Topic{
		{Name: "p.a", Partitions: 1, RetentionMs: 48 * 3600 * 1000, RetentionBytes: 1 << 20, Configs: cfg},
		{Name: "p.b", Partitions: 3, RetentionMs: 2 * 3600 * 1000, RetentionBytes: 1 << 20, Configs: cfg},
	}
	if len(got) != len(want) {
		t.Fatalf("TopicsFor = %+v", got)
	}
	for i := range want {
		if !reflect.DeepEqual(got[i], want[i]) {
			t.Errorf("topic %d = %+v, want %+v", i, got[i], want[i])
		}
	}
}

func newAdmin(t *testing.T) *Admin {
	t.Helper()
	c := kafkatest.Cluster(t, "")
	cl, err := kgo.NewClient(c.AdminOpts()...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return NewAdmin(cl)
}

func TestCreateTopicsAppliesLimits(t *testing.T) {
	a := newAdmin(t)
	ctx := context.Background()
	l := catalog.Limits{MaxTopics: 5, MaxPartitions: 3, MaxRetentionHours: 48, MaxBytesPerTopic: 1 << 20}
	if err := a.CreateTopics(ctx, TopicsFor("p.", []catalog.TopicSpec{{Name: "a", Partitions: 2}}, l, nil)); err != nil {
		t.Fatal(err)
	}
	// Creating again is what a retried provision does.
	if err := a.CreateTopics(ctx, TopicsFor("p.", []catalog.TopicSpec{{Name: "a", Partitions: 2}}, l, nil)); err != nil {
		t.Fatalf("repeated create: %v", err)
	}
	rc, err := a.adm.DescribeTopicConfigs(ctx, "p.a")
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, r := range rc {
		for _, c := range r.Configs {
			if c.Value != nil {
				got[c.Key] = *c.Value
			}
		}
	}
	if got["retention.ms"] != "172800000" || got["retention.bytes"] != "1048576" {
		t.Fatalf("configs retention.ms=%q retention.bytes=%q", got["retention.ms"], got["retention.bytes"])
	}
	details, err := a.adm.ListTopics(ctx, "p.a")
	if err != nil || len(details["p.a"].Partitions) != 2 {
		t.Fatalf("partitions: %v %v", details, err)
	}
}

func TestCreateTopicsRollsBack(t *testing.T) {
	a := newAdmin(t)
	ctx := context.Background()
	err := a.CreateTopics(ctx, []Topic{
		{Name: "q.x.y", Partitions: 1, RetentionMs: 1000},
		{Name: "q.x_y", Partitions: 1, RetentionMs: 1000}, // clashes with q.x.y in Kafka's eyes
	})
	if err == nil {
		t.Fatal("CreateTopics accepted an invalid topic")
	}
	left, lerr := a.TopicsWithPrefix(ctx, "q.")
	if lerr != nil || len(left) != 0 {
		t.Fatalf("left behind after a failed create: %v %v (create error %v)", left, lerr, err)
	}
}
