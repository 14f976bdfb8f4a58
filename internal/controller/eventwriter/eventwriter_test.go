package eventwriter

import (
	"fmt"
	"sync"
	"testing"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// recordingSink remembers what reached the API server.
type recordingSink struct {
	mu      sync.Mutex
	created map[string]bool
	patched int
}

func (s *recordingSink) Create(e *corev1.Event) (*corev1.Event, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.created[e.Name] = true
	return e, nil
}

func (s *recordingSink) Update(e *corev1.Event) (*corev1.Event, error) { return e, nil }

func (s *recordingSink) Patch(e *corev1.Event, _ []byte) (*corev1.Event, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.created[e.Name] {
		return nil, apierrors.NewNotFound(schema.GroupResource{Resource: "events"}, e.Name)
	}
	s.patched++
	return e, nil
}

// Every Event handed over is written by the time close returns, and a patch
// of an Event the API server does not have writes it whole.
func TestParallelSinkWritesEverythingQueued(t *testing.T) {
	rec := &recordingSink{created: map[string]bool{}}
	p := newParallelSink(rec, 4, logr.Discard())
	const n = 500
	for i := range n {
		if _, err := p.Create(&corev1.Event{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("e%d", i)}}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := p.Patch(&corev1.Event{ObjectMeta: metav1.ObjectMeta{Name: "never-created"}}, []byte(`{}`)); err != nil {
		t.Fatal(err)
	}
	p.close()
	if len(rec.created) != n+1 || !rec.created["never-created"] {
		t.Errorf("%d Events written, want %d including the patched one", len(rec.created), n+1)
	}
	// After close, Events are dropped rather than panicking on a closed queue.
	if _, err := p.Create(&corev1.Event{ObjectMeta: metav1.ObjectMeta{Name: "late"}}); err != nil || rec.created["late"] {
		t.Errorf("an Event after close: err %v, written %t", err, rec.created["late"])
	}
}
