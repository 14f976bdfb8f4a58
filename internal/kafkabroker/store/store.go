// Package store keeps the broker's records in a compacted Kafka topic, so the
// broker process holds no state of its own: a restarted broker, or a second
// replica, rebuilds the same view by reading the topic.
//
// Each record is a key and a JSON value; a nil value is a tombstone. Reads
// first catch up with the topic's end offset, so every replica sees every
// write that was acknowledged before the read began.
package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// Store is a key-value view of one single-partition compacted topic.
type Store struct {
	topic string
	cl    *kgo.Client

	mu      sync.Mutex
	records map[string][]byte
	next    int64         // offset of the next record to apply
	changed chan struct{} // closed and replaced whenever next moves
	err     error         // set when the consume loop stops for good

	cancel context.CancelFunc
	done   chan struct{}
}

// Open creates the topic if needed and starts following it. opts must
// connect to the cluster with credentials that may create, read and write
// the topic; nobody else should have access to it because binding records
// hold passwords.
func Open(ctx context.Context, topic string, opts ...kgo.Opt) (*Store, error) {
	admCl, err := kgo.NewClient(opts...)
	if err != nil {
		return nil, err
	}
	err = ensureTopic(ctx, kadm.NewClient(admCl), topic)
	admCl.Close()
	if err != nil {
		return nil, err
	}
	cl, err := kgo.NewClient(slices.Concat(opts, []kgo.Opt{
		kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: {0: kgo.NewOffset().AtStart()}}),
		kgo.DefaultProduceTopic(topic),
		kgo.RecordPartitioner(kgo.ManualPartitioner()),
		kgo.ProducerLinger(0), // one record per operation: nothing to batch, so do not wait
	})...)
	if err != nil {
		return nil, err
	}
	loopCtx, cancel := context.WithCancel(context.Background())
	s := &Store{
		topic:   topic,
		cl:      cl,
		records: map[string][]byte{},
		changed: make(chan struct{}),
		cancel:  cancel,
		done:    make(chan struct{}),
	}
	go s.consume(loopCtx)
	if err := s.Sync(ctx); err != nil {
		s.Close()
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
	details, err := adm.ListTopics(ctx, topic)
	if err != nil {
		return fmt.Errorf("describing state topic %s: %w", topic, err)
	}
	d, ok := details[topic]
	if !ok || d.Err != nil {
		return fmt.Errorf("describing state topic %s: %v", topic, d.Err)
	}
	if n := len(d.Partitions); n != 1 {
		return fmt.Errorf("state topic %s has %d partitions; it needs exactly 1", topic, n)
	}
	return nil
}

func (s *Store) consume(ctx context.Context) {
	defer close(s.done)
	for {
		fs := s.cl.PollFetches(ctx)
		if ctx.Err() != nil {
			return
		}
		var fatal error
		fs.EachError(func(_ string, _ int32, err error) {
			// Retriable errors are retried inside the client; what reaches
			// us here means the view can no longer be trusted.
			if !kerr.IsRetriable(err) && !errors.Is(err, context.Canceled) {
				fatal = err
			}
		})
		s.mu.Lock()
		fs.EachRecord(func(r *kgo.Record) {
			if r.Offset >= s.next { // lower offsets were applied by write already
				s.apply(r.Key, r.Value, r.Offset)
			}
		})
		if fatal != nil {
			s.err = fmt.Errorf("following state topic %s: %w", s.topic, fatal)
		}
		close(s.changed)
		s.changed = make(chan struct{})
		s.mu.Unlock()
		if fatal != nil {
			return
		}
	}
}

func (s *Store) apply(key, value []byte, offset int64) {
	if value == nil {
		delete(s.records, string(key))
	} else {
		s.records[string(key)] = value
	}
	s.next = offset + 1
}

// waitFor blocks until every record before offset end has been applied.
func (s *Store) waitFor(ctx context.Context, end int64) error {
	for {
		s.mu.Lock()
		next, err, ch := s.next, s.err, s.changed
		s.mu.Unlock()
		if err != nil {
			return err
		}
		if next >= end {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		case <-s.done:
			return errors.New("store closed")
		}
	}
}

// Sync waits until the view includes everything written to the topic so
// far, by any replica. It asks for the end offset with a bare ListOffsets
// request, which the client routes to the partition leader; kadm's helper
// adds a metadata round trip.
func (s *Store) Sync(ctx context.Context) error {
	req := kmsg.NewPtrListOffsetsRequest()
	rt := kmsg.NewListOffsetsRequestTopic()
	rt.Topic = s.topic
	rp := kmsg.NewListOffsetsRequestTopicPartition()
	rp.Partition = 0
	rp.Timestamp = -1 // the end: the offset the next record will get
	rt.Partitions = append(rt.Partitions, rp)
	req.Topics = append(req.Topics, rt)
	resp, err := req.RequestWith(ctx, s.cl)
	if err != nil {
		return fmt.Errorf("reading end of state topic: %w", err)
	}
	if len(resp.Topics) != 1 || len(resp.Topics[0].Partitions) != 1 {
		return errors.New("reading end of state topic: malformed answer")
	}
	p := resp.Topics[0].Partitions[0]
	if err := kerr.ErrorForCode(p.ErrorCode); err != nil {
		return fmt.Errorf("reading end of state topic: %w", err)
	}
	return s.waitFor(ctx, p.Offset)
}

// Put writes v as JSON under key and returns once the local view has it, so
// a read after Put sees the write.
func (s *Store) Put(ctx context.Context, key string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return s.write(ctx, key, b)
}

// Delete writes a tombstone for key.
func (s *Store) Delete(ctx context.Context, key string) error {
	return s.write(ctx, key, nil)
}

func (s *Store) write(ctx context.Context, key string, value []byte) error {
	r := &kgo.Record{Key: []byte(key), Value: value, Partition: 0}
	res := s.cl.ProduceSync(ctx, r)
	if err := res.FirstErr(); err != nil {
		return fmt.Errorf("writing state record: %w", err)
	}
	// When everything before our record is applied, our record is the
	// next one, so apply it now instead of waiting for it to come back
	// through the consumer; otherwise the consumer applies it in order.
	offset := res[0].Record.Offset
	s.mu.Lock()
	if s.next == offset && s.err == nil {
		s.apply(r.Key, r.Value, offset)
		close(s.changed)
		s.changed = make(chan struct{})
	}
	s.mu.Unlock()
	return s.waitFor(ctx, offset+1)
}

// Get syncs and then decodes the record under key into v. It reports
// whether the record exists.
func (s *Store) Get(ctx context.Context, key string, v any) (bool, error) {
	if err := s.Sync(ctx); err != nil {
		return false, err
	}
	return s.Cached(key, v)
}

// Cached is Get without the sync: it reads the view as of the last sync or
// write, for a caller that has just synced.
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

// Healthy reports whether the view still follows the topic.
func (s *Store) Healthy() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}

// Close stops following the topic and closes the clients.
func (s *Store) Close() {
	s.cancel()
	<-s.done
	s.cl.Close()
}
