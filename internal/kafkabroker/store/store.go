// Package store keeps the broker's records in a compacted Kafka topic, so the
// broker process holds no state of its own: a restarted broker, or a second
// replica, rebuilds the same view by reading the topic.
//
// Each record is a key and a JSON value; a nil value is a tombstone. Reads
// first fetch whatever the topic holds beyond the local view, so every
// replica sees every write that was acknowledged before the read began.
// Nothing runs in the background: a replica catches up when it reads.
package store

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// fetchBytes bounds one fetch; a view that is further behind takes several.
const fetchBytes = 8 << 20

// Store is a key-value view of one single-partition compacted topic.
type Store struct {
	topic string
	cl    *kgo.Client

	locMu   sync.Mutex
	leader  int32    // the partition's leader, which serves fetches
	topicID [16]byte // fetches name the topic by ID from version 13

	mu      sync.Mutex
	records map[string][]byte
	next    int64 // offset of the next record to apply
	gen     int   // bumped when the view is rebuilt from scratch
	// deleted remembers keys whose last record is a tombstone, oldest
	// first, so "deleted" can be told from "never existed" (OSB answers
	// 410 to the one and 404 to the other). Bounded: forgetting a very old
	// deletion only turns a late 410 into a 404.
	deleted     map[string]struct{}
	deletedFIFO []string
}

// maxDeleted bounds the deletions a store remembers.
const maxDeleted = 100000

// Open creates the topic if needed and reads it. opts must connect to the
// cluster with credentials that may create, read and write the topic;
// nobody else should have access to it because binding records hold
// passwords.
func Open(ctx context.Context, topic string, opts ...kgo.Opt) (*Store, error) {
	cl, err := kgo.NewClient(slices.Concat(opts, []kgo.Opt{
		kgo.DefaultProduceTopic(topic),
		kgo.RecordPartitioner(kgo.ManualPartitioner()),
		kgo.ProducerLinger(0), // one record per operation: nothing to batch, so do not wait
	})...)
	if err != nil {
		return nil, err
	}
	s := &Store{topic: topic, cl: cl, records: map[string][]byte{}, deleted: map[string]struct{}{}}
	err = ensureTopic(ctx, kadm.NewClient(cl), topic)
	if err == nil {
		err = s.locate(ctx)
	}
	if err == nil {
		err = s.Sync(ctx)
	}
	if err != nil {
		cl.Close()
		return nil, err
	}
	return s, nil
}

func ensureTopic(ctx context.Context, adm *kadm.Client, topic string) error {
	// One partition keeps a single order of writes that every replica
	// applies the same way; compaction keeps the topic as small as the set
	// of live records.
	cfg := map[string]*string{"cleanup.policy": kadm.StringPtr("compact")}
	resp, err := adm.CreateTopic(ctx, 1, -1, cfg, topic)
	if err == nil {
		err = resp.Err
	}
	if err != nil && !errors.Is(err, kerr.TopicAlreadyExists) {
		return fmt.Errorf("creating state topic %s: %w", topic, err)
	}
	return nil
}

// locate finds the partition's leader and the topic's ID. It asks the
// cluster directly rather than through cached metadata, because it runs
// when the cached leader turned out wrong.
func (s *Store) locate(ctx context.Context) error {
	req := kmsg.NewPtrMetadataRequest()
	rt := kmsg.NewMetadataRequestTopic()
	rt.Topic = kmsg.StringPtr(s.topic)
	req.Topics = append(req.Topics, rt)
	resp, err := req.RequestWith(ctx, s.cl)
	if err != nil {
		return fmt.Errorf("describing state topic %s: %w", s.topic, err)
	}
	if len(resp.Topics) != 1 {
		return fmt.Errorf("describing state topic %s: malformed answer", s.topic)
	}
	t := resp.Topics[0]
	if err := kerr.ErrorForCode(t.ErrorCode); err != nil {
		return fmt.Errorf("describing state topic %s: %w", s.topic, err)
	}
	if n := len(t.Partitions); n != 1 {
		return fmt.Errorf("state topic %s has %d partitions; it needs exactly 1", s.topic, n)
	}
	s.locMu.Lock()
	s.leader, s.topicID = t.Partitions[0].Leader, t.TopicID
	s.locMu.Unlock()
	return nil
}

// Sync brings the view up to everything written to the topic so far, by
// any replica: it fetches from the view's end until it reaches the topic's.
// Usually that is one fetch, which finds nothing new.
func (s *Store) Sync(ctx context.Context) error {
	failures := 0
	for {
		done, err := s.fetchOnce(ctx)
		switch {
		case done:
			return nil
		case err == nil:
			continue // more to read
		case ctx.Err() != nil:
			return ctx.Err()
		case failures == 5 || !retriable(err):
			return fmt.Errorf("reading state topic %s: %w", s.topic, err)
		}
		// Leadership moved, the topic's metadata is not there yet, or the
		// view was rebuilt: look the partition up again and retry.
		failures++
		select {
		case <-time.After(time.Duration(failures) * 50 * time.Millisecond):
		case <-ctx.Done():
			return ctx.Err()
		}
		if err := s.locate(ctx); err != nil && failures == 5 {
			return err
		}
	}
}

// errRebuilt makes Sync fetch again after the view was reset.
var errRebuilt = errors.New("the state topic was recreated or truncated; reading it afresh")

func retriable(err error) bool {
	var kerrErr *kerr.Error
	if errors.As(err, &kerrErr) {
		return kerrErr.Retriable
	}
	return true // errors on the way to the broker, such as a leader it no longer knows
}

// fetchOnce fetches once from the view's end and applies what it gets. It
// reports whether the view reached the end of the topic as that fetch saw
// it.
func (s *Store) fetchOnce(ctx context.Context) (bool, error) {
	s.mu.Lock()
	from, gen := s.next, s.gen
	s.mu.Unlock()
	p, err := s.fetch(ctx, from)
	if err != nil {
		return false, err
	}
	err = kerr.ErrorForCode(p.ErrorCode)
	if errors.Is(err, kerr.OffsetOutOfRange) {
		// The view is past the topic's end or before its start: the topic
		// was recreated or truncated, so read it afresh from its start.
		start, err := kadm.NewClient(s.cl).ListStartOffsets(ctx, s.topic)
		if err == nil {
			err = start.Error()
		}
		if err != nil {
			return false, err
		}
		o, _ := start.Lookup(s.topic, 0)
		s.mu.Lock()
		if s.gen == gen {
			s.records, s.next, s.gen = map[string][]byte{}, o.Offset, s.gen+1
			s.deleted, s.deletedFIFO = map[string]struct{}{}, nil
		}
		s.mu.Unlock()
		return false, errRebuilt
	}
	if err != nil {
		return false, err
	}
	fp, after := kgo.ProcessFetchPartition(kgo.ProcessFetchPartitionOpts{Offset: from, Topic: s.topic}, p, kgo.DefaultDecompressor(), nil)
	if fp.Err != nil {
		return false, fp.Err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.gen != gen {
		return false, nil // rebuilt meanwhile: fetch again
	}
	for _, r := range fp.Records {
		if r.Offset >= s.next { // lower ones were applied by a write or another fetch
			s.apply(r.Key, bytes.Clone(r.Value), r.Offset) // not pinning the fetch's buffer
		}
	}
	// after is past every batch the fetch covered, including batches that
	// compaction emptied, so nothing before it is left to apply.
	s.next = max(s.next, after)
	if s.next < p.HighWatermark && after == from {
		return false, fmt.Errorf("no progress at offset %d", from)
	}
	return s.next >= p.HighWatermark, nil
}

// fetch asks the partition's leader for the records from offset on,
// without waiting for new ones.
func (s *Store) fetch(ctx context.Context, from int64) (*kmsg.FetchResponseTopicPartition, error) {
	s.locMu.Lock()
	leader, id := s.leader, s.topicID
	s.locMu.Unlock()
	req := kmsg.NewPtrFetchRequest()
	req.MaxWaitMillis = 0
	req.MaxBytes = fetchBytes
	rt := kmsg.NewFetchRequestTopic()
	rt.Topic, rt.TopicID = s.topic, id
	rp := kmsg.NewFetchRequestTopicPartition()
	rp.FetchOffset = from
	rp.PartitionMaxBytes = fetchBytes
	rt.Partitions = append(rt.Partitions, rp)
	req.Topics = append(req.Topics, rt)
	kresp, err := s.cl.Broker(int(leader)).RetriableRequest(ctx, req)
	if err != nil {
		return nil, err
	}
	resp := kresp.(*kmsg.FetchResponse)
	if err := kerr.ErrorForCode(resp.ErrorCode); err != nil {
		return nil, err
	}
	if len(resp.Topics) != 1 || len(resp.Topics[0].Partitions) != 1 {
		return nil, errors.New("malformed fetch answer")
	}
	return &resp.Topics[0].Partitions[0], nil
}

func (s *Store) apply(key, value []byte, offset int64) {
	if value == nil {
		delete(s.records, string(key))
		s.remember(string(key))
	} else {
		s.records[string(key)] = value
		delete(s.deleted, string(key))
	}
	s.next = offset + 1
}

func (s *Store) remember(key string) {
	if _, ok := s.deleted[key]; ok {
		return
	}
	for len(s.deletedFIFO) >= maxDeleted {
		delete(s.deleted, s.deletedFIFO[0])
		s.deletedFIFO = s.deletedFIFO[1:]
	}
	s.deleted[key] = struct{}{}
	s.deletedFIFO = append(s.deletedFIFO, key)
}

// Deleted syncs and reports whether key was deleted (its last record is a
// tombstone this view has read), as opposed to never written.
func (s *Store) Deleted(ctx context.Context, key string) (bool, error) {
	if err := s.Sync(ctx); err != nil {
		return false, err
	}
	return s.DeletedCached(key), nil
}

// DeletedCached is Deleted without the sync, for a caller that has just
// synced (a Get that found nothing): a second sync would be another round
// trip to Kafka for the same answer.
func (s *Store) DeletedCached(key string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.deleted[key]
	return ok
}

// Record is one write: a key and its JSON value, or a nil value to delete
// the key.
type Record struct {
	Key   string
	Value json.RawMessage
}

// Put writes v as JSON under key and returns once the local view has it, so
// a read after Put sees the write.
func (s *Store) Put(ctx context.Context, key string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return s.Write(ctx, Record{Key: key, Value: b})
}

// Delete writes a tombstone for key.
func (s *Store) Delete(ctx context.Context, key string) error {
	return s.Write(ctx, Record{Key: key})
}

// Write writes records in order, produced together, and returns once the
// local view has them all.
func (s *Store) Write(ctx context.Context, recs ...Record) error {
	if len(recs) == 0 {
		return nil
	}
	rs := make([]*kgo.Record, len(recs))
	for i, r := range recs {
		rs[i] = &kgo.Record{Key: []byte(r.Key), Value: r.Value}
	}
	if err := s.cl.ProduceSync(ctx, rs...).FirstErr(); err != nil {
		return fmt.Errorf("writing state record: %w", err)
	}
	// When everything before a record is applied, the record is the next
	// one, so apply it now; otherwise another replica wrote in between, and
	// fetching catches up with both. Check each record: another replica's
	// write can land between two of ours.
	s.mu.Lock()
	caughtUp := true
	for _, r := range rs {
		if s.next > r.Offset {
			continue // a fetch applied it already
		}
		if s.next != r.Offset {
			caughtUp = false
			break
		}
		s.apply(r.Key, r.Value, r.Offset)
	}
	s.mu.Unlock()
	if caughtUp {
		return nil
	}
	return s.Sync(ctx)
}

// Get syncs and then decodes the record under key into v. It reports
// whether the record exists.
func (s *Store) Get(ctx context.Context, key string, v any) (bool, error) {
	if err := s.Sync(ctx); err != nil {
		return false, err
	}
	return s.Cached(key, v)
}

// Cached is Get without the sync: it reads the view as it is, which lags
// the topic by whatever other replicas wrote since this one last synced.
func (s *Store) Cached(key string, v any) (bool, error) {
	s.mu.Lock()
	b, ok := s.records[key]
	s.mu.Unlock()
	if !ok {
		return false, nil
	}
	if err := json.Unmarshal(b, v); err != nil {
		return true, fmt.Errorf("decoding state record %s: %w", key, err)
	}
	return true, nil
}

// List syncs and returns the raw values of all records whose key starts
// with prefix.
func (s *Store) List(ctx context.Context, prefix string) (map[string]json.RawMessage, error) {
	if err := s.Sync(ctx); err != nil {
		return nil, err
	}
	return s.ListCached(prefix), nil
}

// ListCached is List without the sync.
func (s *Store) ListCached(prefix string) map[string]json.RawMessage {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]json.RawMessage{}
	for k, v := range s.records {
		if strings.HasPrefix(k, prefix) {
			out[k] = v
		}
	}
	return out
}

// Healthy reports whether the topic can be read.
func (s *Store) Healthy(ctx context.Context) error {
	return s.Sync(ctx)
}

// Close closes the client.
func (s *Store) Close() {
	s.cl.Close()
}
