package store

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/svcat-io/svcat/internal/kafkabroker/kafkatest"
)

type rec struct{ N int }

func open(t *testing.T, opts []kgo.Opt, topic string) *Store {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s, err := Open(ctx, topic, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

func TestReplicasAgree(t *testing.T) {
	c := kafkatest.Cluster(t, "")
	a := open(t, c.AdminOpts(), "state")
	b := open(t, c.AdminOpts(), "state")
	ctx := context.Background()

	// Writes alternate between the replicas; each read must see every
	// write acknowledged before it, whichever replica made it.
	for i := range 20 {
		w, r := a, b
		if i%2 == 1 {
			w, r = b, a
		}
		key := fmt.Sprintf("k%d", i%3)
		if err := w.Put(ctx, key, rec{i}); err != nil {
			t.Fatal(err)
		}
		var got rec
		ok, err := r.Get(ctx, key, &got)
		if err != nil || !ok || got.N != i {
			t.Fatalf("write %d: other replica read %+v ok=%v err=%v", i, got, ok, err)
		}
	}
	if err := a.Delete(ctx, "k0"); err != nil {
		t.Fatal(err)
	}
	if ok, err := b.Get(ctx, "k0", &rec{}); ok || err != nil {
		t.Fatalf("deleted key still visible: %v %v", ok, err)
	}
	list, err := b.List(ctx, "k")
	if err != nil || len(list) != 2 {
		t.Fatalf("List = %v, %v; want k1 and k2", list, err)
	}

	// A store opened later rebuilds the same view from the topic.
	late := open(t, c.AdminOpts(), "state")
	list, err = late.List(ctx, "")
	if err != nil || len(list) != 2 || string(list["k1"]) != `{"N":19}` {
		t.Fatalf("late replica sees %v, %v", list, err)
	}
}

func TestRejectsMultiPartitionTopic(t *testing.T) {
	c := kafkatest.Cluster(t, "")
	cl, err := kgo.NewClient(c.AdminOpts()...)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	if _, err := kadm.NewClient(cl).CreateTopic(context.Background(), 3, -1, nil, "wide"); err != nil {
		t.Fatal(err)
	}
	_, err = Open(context.Background(), "wide", c.AdminOpts()...)
	if err == nil || !strings.Contains(err.Error(), "exactly 1") {
		t.Fatalf("Open on a 3-partition topic: %v", err)
	}
}

func TestTopicIsCompacted(t *testing.T) {
	c := kafkatest.Cluster(t, "")
	open(t, c.AdminOpts(), "state")
	cl, err := kgo.NewClient(c.AdminOpts()...)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	rc, err := kadm.NewClient(cl).DescribeTopicConfigs(context.Background(), "state")
	if err != nil {
		t.Fatal(err)
	}
	policy := ""
	for _, r := range rc {
		for _, c := range r.Configs {
			if c.Key == "cleanup.policy" && c.Value != nil {
				policy = *c.Value
			}
		}
	}
	if policy != "compact" {
		t.Fatalf("cleanup.policy = %q", policy)
	}
}

// Reads go to the partition's leader, which need not be the broker the
// client first reached, and follow it when it moves.
func TestFollowsTheLeader(t *testing.T) {
	kf, err := kfake.NewCluster(kfake.NumBrokers(3))
	if err != nil {
		t.Fatal(err)
	}
	defer kf.Close()
	opts := []kgo.Opt{kgo.SeedBrokers(kf.ListenAddrs()...)}
	a := open(t, opts, "state")
	b := open(t, opts, "state")
	ctx := context.Background()
	for i := range 6 {
		if err := a.Put(ctx, "k", rec{i}); err != nil {
			t.Fatal(err)
		}
		var got rec
		if ok, err := b.Get(ctx, "k", &got); err != nil || !ok || got.N != i {
			t.Fatalf("round %d: other replica read %+v ok=%v err=%v", i, got, ok, err)
		}
		// Move the partition to the next broker for the next round.
		next := (kf.LeaderFor("state", 0) + 1) % 3
		if err := kf.MoveTopicPartition("state", 0, next); err != nil {
			t.Fatal(err)
		}
	}
}

// A state topic deleted and made again under a running store is read
// afresh, not mistaken for the old one.
func TestRecreatedTopic(t *testing.T) {
	c := kafkatest.Cluster(t, "")
	s := open(t, c.AdminOpts(), "state")
	ctx := context.Background()
	for i := range 5 {
		if err := s.Put(ctx, fmt.Sprintf("old%d", i), rec{i}); err != nil {
			t.Fatal(err)
		}
	}
	cl, err := kgo.NewClient(c.AdminOpts()...)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	if _, err := adm.DeleteTopic(ctx, "state"); err != nil {
		t.Fatal(err)
	}
	if _, err := adm.CreateTopic(ctx, 1, -1, nil, "state"); err != nil {
		t.Fatal(err)
	}
	if err := cl.ProduceSync(ctx, &kgo.Record{Topic: "state", Key: []byte("new"), Value: []byte(`{"N":1}`)}).FirstErr(); err != nil {
		t.Fatal(err)
	}
	list, err := s.List(ctx, "")
	if err != nil || len(list) != 1 || string(list["new"]) != `{"N":1}` {
		t.Fatalf("after the topic was made again: %v, %v", list, err)
	}
}

// TestDeletedIsToldFromNeverWritten: a deleted key is known as deleted to
// every replica and to one opened later (it reads the tombstone), a key
// never written is not, and writing a deleted key again makes it live.
func TestDeletedIsToldFromNeverWritten(t *testing.T) {
	c := kafkatest.Cluster(t, "")
	a := open(t, c.AdminOpts(), "state")
	ctx := context.Background()
	if err := a.Put(ctx, "gone", rec{1}); err != nil {
		t.Fatal(err)
	}
	if err := a.Delete(ctx, "gone"); err != nil {
		t.Fatal(err)
	}
	if err := a.Put(ctx, "back", rec{1}); err != nil {
		t.Fatal(err)
	}
	if err := a.Delete(ctx, "back"); err != nil {
		t.Fatal(err)
	}
	if err := a.Put(ctx, "back", rec{2}); err != nil {
		t.Fatal(err)
	}
	later := open(t, c.AdminOpts(), "state")
	for _, s := range []*Store{a, later} {
		for key, want := range map[string]bool{"gone": true, "never": false, "back": false} {
			if got, err := s.Deleted(ctx, key); err != nil || got != want {
				t.Errorf("Deleted(%q) = %v, %v; want %v", key, got, err, want)
			}
		}
	}
}

func TestDeletedIsBounded(t *testing.T) {
	s := &Store{records: map[string][]byte{}, deleted: map[string]struct{}{}}
	for i := range maxDeleted + 10 {
		s.apply([]byte(fmt.Sprint(i)), nil, int64(i))
	}
	if len(s.deleted) != maxDeleted || len(s.deletedFIFO) != maxDeleted {
		t.Fatalf("remembers %d (%d in order), want %d", len(s.deleted), len(s.deletedFIFO), maxDeleted)
	}
	if _, ok := s.deleted["0"]; ok {
		t.Error("the oldest deletion should be forgotten first")
	}
}
