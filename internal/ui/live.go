package ui

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/svcat-io/svcat/api/v1beta1"
	"github.com/svcat-io/svcat/internal/cli/apiview"
)

// Live regions are fragments of a page that the server renders again
// whenever a watch on instances or bindings reports a change, and sends
// over Server-Sent Events; the page's script swaps them in. The same
// template draws them in the first page load.

type instancesLiveData struct {
	Instances []instanceView
	Err       error
	// Shared are the instances other namespaces share with this one, as
	// their markers say; SharedNote says why some may be missing.
	Shared     []apiview.SharedInstance
	SharedNote string
}

type bindingsLiveData struct {
	Bindings []bindingView
	Err      error
}

type instanceLiveData struct {
	Name       string
	Instance   *instanceView
	Gone       bool
	Events     []eventView
	EventsNote string
	Err        error
}

type bindingLiveData struct {
	Name       string
	Binding    *bindingView
	Gone       bool
	Events     []eventView
	EventsNote string
	Err        error
}

func (s *Server) instancesLive(ctx context.Context) instancesLiveData {
	ins, err := s.c.Instances(ctx, s.opts.Namespace)
	if err != nil {
		return instancesLiveData{Err: err}
	}
	off, _ := s.c.OfferingsIfAllowed(ctx, s.opts.Namespace)
	d := instancesLiveData{}
	for i := range ins {
		d.Instances = append(d.Instances, newInstanceView(&ins[i], off))
	}
	s.sharedLive(ctx, &d)
	return d
}

func (s *Server) bindingsLive(ctx context.Context) bindingsLiveData {
	bs, err := s.c.Bindings(ctx, s.opts.Namespace)
	if err != nil {
		return bindingsLiveData{Err: err}
	}
	d := bindingsLiveData{}
	for i := range bs {
		d.Bindings = append(d.Bindings, newBindingView(&bs[i]))
	}
	return d
}

func isNotFound(err error) bool {
	var nf *apiview.NotFoundError
	return errors.As(err, &nf)
}

func (s *Server) instanceLive(ctx context.Context, name string) instanceLiveData {
	d := instanceLiveData{Name: name}
	in, err := s.c.Instance(ctx, s.opts.Namespace, name)
	if isNotFound(err) {
		d.Gone, d.Err = true, err
		return d
	}
	if err != nil {
		d.Err = err
		return d
	}
	off, _ := s.c.OfferingsIfAllowed(ctx, s.opts.Namespace)
	v := newInstanceView(in, off)
	bs, err := s.c.BindingsOf(ctx, s.opts.Namespace, name)
	if err != nil {
		d.EventsNote = err.Error()
	}
	for i := range bs {
		v.Bindings = append(v.Bindings, newBindingView(&bs[i]))
	}
	d.Instance = &v
	d.Events, d.EventsNote = s.events(ctx, "ServiceInstance", name, in.UID)
	return d
}

// events lists the object's events; a user who may not read events gets
// the reason instead.
func (s *Server) events(ctx context.Context, kind, name string, uid types.UID) ([]eventView, string) {
	var l corev1.EventList
	// The API server picks the object's events: a busy namespace has
	// thousands.
	err := s.wc.List(ctx, &l, client.InNamespace(s.opts.Namespace),
		client.MatchingFields{"involvedObject.kind": kind, "involvedObject.name": name})
	if apierrors.IsForbidden(err) {
		err = &apiview.ForbiddenError{Verb: "list", Resource: "events", Namespace: s.opts.Namespace, Err: err}
	}
	if err != nil {
		return nil, err.Error()
	}
	var mine []corev1.Event
	for _, e := range l.Items {
		if e.InvolvedObject.Kind == kind && e.InvolvedObject.Name == name && e.InvolvedObject.UID == uid {
			mine = append(mine, e)
		}
	}
	return eventViews(mine), ""
}

func (s *Server) bindingLive(ctx context.Context, name string) bindingLiveData {
	d := bindingLiveData{Name: name}
	b, err := s.c.Binding(ctx, s.opts.Namespace, name)
	if isNotFound(err) {
		d.Gone, d.Err = true, err
		return d
	}
	if err != nil {
		d.Err = err
		return d
	}
	v := newBindingView(b)
	sec, err := s.c.Secret(ctx, s.opts.Namespace, v.SecretName)
	switch {
	case isNotFound(err):
		v.SecretNote = "The Secret does not exist yet: the controller writes it once the broker has bound."
	case err != nil:
		v.SecretNote = err.Error()
	default:
		v.SecretKeys = secretKeys(sec)
	}
	d.Binding = &v
	d.Events, d.EventsNote = s.events(ctx, "ServiceBinding", name, b.UID)
	return d
}

// liveView renders one live region by name; ok is false for an unknown one.
func (s *Server) liveView(view, name string) (func(ctx context.Context) (string, error), bool) {
	var tmpl string
	var data func(ctx context.Context) any
	switch view {
	case "instances":
		tmpl, data = "instancesLive", func(ctx context.Context) any { return s.instancesLive(ctx) }
	case "bindings":
		tmpl, data = "bindingsLive", func(ctx context.Context) any { return s.bindingsLive(ctx) }
	case "instance":
		tmpl, data = "instanceLive", func(ctx context.Context) any { return s.instanceLive(ctx, name) }
	case "binding":
		tmpl, data = "bindingLive", func(ctx context.Context) any { return s.bindingLive(ctx, name) }
	default:
		return nil, false
	}
	return func(ctx context.Context) (string, error) {
		var buf bytes.Buffer
		err := s.pages.frags.ExecuteTemplate(&buf, tmpl, data(ctx))
		return buf.String(), err
	}, true
}

// live streams a region's new renderings as Server-Sent Events.
func (s *Server) live(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if v := q.Get("view"); (v == "instance" || v == "binding") && !objectName(w, q.Get("name")) {
		return
	}
	render, ok := s.liveView(q.Get("view"), q.Get("name"))
	if !ok {
		http.Error(w, "unknown view: use instances, bindings, instance or binding", http.StatusBadRequest)
		return
	}
	select {
	case s.streams <- struct{}{}:
		defer func() { <-s.streams }()
	default:
		http.Error(w, fmt.Sprintf("too many live pages are open (at most %d): close some tabs", maxStreams), http.StatusServiceUnavailable)
		return
	}
	rc := http.NewResponseController(w)
	w.Header().Set("Content-Type", "text/event-stream")
	w.WriteHeader(http.StatusOK)
	write := func(s string) error {
		_ = rc.SetWriteDeadline(time.Now().Add(15 * time.Second))
		if _, err := w.Write([]byte(s)); err != nil {
			return err
		}
		return rc.Flush()
	}
	if write(": live\n\n") != nil {
		return
	}
	ctx := r.Context()
	changes := make(chan struct{}, 1)
	go s.watch(ctx, &v1beta1.ServiceInstanceList{}, changes)
	go s.watch(ctx, &v1beta1.ServiceBindingList{}, changes)

	last := ""
	emit := func() error {
		rctx, cancel := context.WithTimeout(ctx, requestTimeout)
		defer cancel()
		html, err := render(rctx)
		if err != nil || html == last {
			return nil
		}
		last = html
		return write(sseData(html))
	}
	if emit() != nil {
		return
	}
	ping := time.NewTicker(20 * time.Second)
	defer ping.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-changes:
			// Changes come in bursts (status, then finalizers): one
			// rendering per burst.
			time.Sleep(100 * time.Millisecond)
			select {
			case <-changes:
			default:
			}
			if emit() != nil {
				return
			}
		case <-ping.C:
			if write(": ping\n\n") != nil {
				return
			}
		}
	}
}

func sseData(html string) string {
	var b strings.Builder
	for _, line := range strings.Split(html, "\n") {
		b.WriteString("data: ")
		b.WriteString(strings.TrimRight(line, "\r"))
		b.WriteByte('\n')
	}
	b.WriteByte('\n')
	return b.String()
}

// watch signals changes to a kind in the namespace until ctx ends,
// watching again when the API server closes the watch.
func (s *Server) watch(ctx context.Context, list client.ObjectList, changes chan<- struct{}) {
	for ctx.Err() == nil {
		wi, err := s.wc.Watch(ctx, list, client.InNamespace(s.opts.Namespace))
		if err != nil {
			// Refused or unreachable: the region shows why on its next
			// rendering; try again later.
			select {
			case <-ctx.Done():
			case <-time.After(5 * time.Second):
			}
			continue
		}
		for range wi.ResultChan() {
			select {
			case changes <- struct{}{}:
			default:
			}
		}
		wi.Stop()
		// A closed watch may have missed events.
		select {
		case changes <- struct{}{}:
		default:
		}
	}
}
