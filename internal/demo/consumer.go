package demo

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// RunConsumer is the consumer's main: GET /messages streams every message of
// the tenant's default topic as Server-Sent Events to every connected
// client; GET /healthz answers ok.
func RunConsumer(ctx context.Context, env Env) error {
	cfg, err := parse("demo-kafka-consumer", env)
	if err != nil {
		return err
	}
	// This client only proves the credentials at start and serves
	// /healthz; the consuming one starts with the first stream.
	probe, err := NewConn(ctx, cfg.load, cfg.log)
	if err != nil {
		return err
	}
	defer probe.Close()
	c := NewConsumer(cfg.creds, cfg.log)
	c.Reload = cfg.load
	defer c.Close()
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		pctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
		defer cancel()
		if err := probe.Do(pctx, func(cl *kgo.Client) error { return cl.Ping(pctx) }); err != nil {
			http.Error(w, "kafka: "+err.Error(), http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(w, "ok")
	})
	mux.Handle("GET /messages", c)
	return serve(ctx, "demo-kafka-consumer", cfg, env, mux)
}

// Consumer reads the default topic in the tenant's group and fans every
// message out to the connected streams.
//
// It starts consuming when the first stream opens, as the seed's consumer
// does (its listener has autoStartup=false): messages sent before anyone
// listens wait in Kafka instead of being consumed into the void. Messages
// consumed while no stream is open are dropped, as with any hot stream.
type Consumer struct {
	creds Credentials
	// Reload reads the binding again; when Kafka refuses the credentials
	// and Reload gives others (a rotation), the consumer reconnects with
	// them. Nil keeps the first credentials.
	Reload func() (Credentials, error)
	log    *slog.Logger
	// extra client options, for tests.
	opts []kgo.Opt

	start  sync.Once
	ctx    context.Context
	cancel context.CancelFunc
	done   chan struct{}

	mu   sync.Mutex
	subs map[chan string]struct{}
	err  error // why consuming stopped, for streams opened afterwards
}

// NewConsumer returns a consumer that has not connected yet.
func NewConsumer(c Credentials, log *slog.Logger, opts ...kgo.Opt) *Consumer {
	ctx, cancel := context.WithCancel(context.Background())
	return &Consumer{creds: c, log: log, opts: opts, ctx: ctx, cancel: cancel, done: make(chan struct{}), subs: map[chan string]struct{}{}}
}

// Close stops consuming; the group membership is left so that the next
// consumer gets the partition at once.
func (c *Consumer) Close() {
	c.cancel()
	// When no stream ever started the consumer, mark it done here so that
	// Close does not wait for a run that will never happen.
	c.start.Do(func() { close(c.done) })
	<-c.done
}

func (c *Consumer) run() {
	defer close(c.done)
	creds := c.creds
	for {
		cl, err := c.client(creds)
		if err != nil {
			c.stop(err)
			return
		}
		c.log.Info("consuming", slog.String("topic", creds.Topic()), slog.String("group", creds.Group()), slog.String("user", creds.Username))
		next, rotated := c.consume(cl, creds)
		cl.Close()
		if !rotated {
			return
		}
		creds = next
	}
}

func (c *Consumer) client(creds Credentials) (*kgo.Client, error) {
	opts := append([]kgo.Opt{
		kgo.ConsumeTopics(creds.Topic()),
		kgo.ConsumerGroup(creds.Group()),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		// A client whose user was revoked before it could leave the
		// group stays a member until its session times out, and the
		// next client waits that long for its partitions: 10 s instead
		// of Kafka's 45 s default.
		kgo.SessionTimeout(10 * time.Second),
	}, c.opts...)
	base, err := creds.ClientOpts()
	if err != nil {
		return nil, err
	}
	return kgo.NewClient(append(base, opts...)...)
}

// RereadEvery is how often a consumer looks at its binding for rotated
// credentials while Kafka still accepts the old ones.
const RereadEvery = 5 * time.Second

// consume polls until the consumer closes (false), or until the binding
// holds other credentials (true, with them): seen when Kafka refuses the
// old ones, or at the latest RereadEvery after the Secret changed, so the
// switch happens while the old credentials still work. The group's
// committed offsets carry the new client on from where this one stopped.
func (c *Consumer) consume(cl *kgo.Client, creds Credentials) (Credentials, bool) {
	lastRead := time.Now()
	for {
		pctx, cancel := context.WithTimeout(c.ctx, RereadEvery)
		fs := cl.PollFetches(pctx)
		cancel()
		if c.ctx.Err() != nil {
			return creds, false
		}
		refused := false
		fs.EachError(func(topic string, p int32, err error) {
			if errors.Is(err, context.DeadlineExceeded) {
				return // the poll's own timeout, for the look below
			}
			c.log.Warn("fetch error", slog.String("topic", topic), slog.Int("partition", int(p)), slog.Any("err", err))
			refused = refused || Refused(err)
		})
		fs.EachRecord(func(r *kgo.Record) { c.publish(string(r.Value)) })
		if c.Reload == nil || (!refused && time.Since(lastRead) < RereadEvery) {
			continue
		}
		lastRead = time.Now()
		next, err := c.Reload()
		if err != nil {
			c.log.Warn("reading the binding again", slog.Any("err", err))
		} else if !next.SameLogin(creds) {
			c.log.Info("credentials rotated: reconnecting", slog.String("from", creds.Username), slog.String("to", next.Username))
			return next, true
		}
		if refused {
			// Refused with what the binding still says: the Secret may
			// not be updated yet. Look again in a moment, not in a
			// busy loop.
			select {
			case <-c.ctx.Done():
			case <-time.After(time.Second):
			}
		}
	}
}

func (c *Consumer) stop(err error) {
	c.log.Error("consuming stopped", slog.Any("err", err))
	c.mu.Lock()
	defer c.mu.Unlock()
	c.err = err
	for ch := range c.subs {
		close(ch)
		delete(c.subs, ch)
	}
}

// subBuffer is how far a stream may fall behind before it is cut; a stalled
// client must not stop the others.
const subBuffer = 1024

func (c *Consumer) publish(msg string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for ch := range c.subs {
		select {
		case ch <- msg:
		default:
			c.log.Warn("stream too slow, closing it")
			close(ch)
			delete(c.subs, ch)
		}
	}
}

func (c *Consumer) subscribe() (chan string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err != nil {
		return nil, c.err
	}
	ch := make(chan string, subBuffer)
	c.subs[ch] = struct{}{}
	return ch, nil
}

func (c *Consumer) unsubscribe(ch chan string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.subs[ch]; ok {
		delete(c.subs, ch)
		close(ch)
	}
}

// keepAlive is how often an idle stream gets an SSE comment, so that
// proxies do not time it out.
const keepAlive = 15 * time.Second

// ServeHTTP streams messages as Server-Sent Events: `data:<line>` per line
// of the message and a blank line after it, as Spring's Flux<String> does
// for the seed's consumer.
func (c *Consumer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	flusher, ok := w.(http.Flusher)
	if !ok {
		http.Error(w, "streaming unsupported", http.StatusInternalServerError)
		return
	}
	// Subscribe before starting, so that no message consumed by the
	// first poll can miss the stream that caused it.
	ch, err := c.subscribe()
	if err != nil {
		http.Error(w, "consumer stopped: "+err.Error(), http.StatusServiceUnavailable)
		return
	}
	defer c.unsubscribe(ch)
	c.start.Do(func() { go c.run() })
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	flusher.Flush()
	tick := time.NewTicker(keepAlive)
	defer tick.Stop()
	for {
		select {
		case <-r.Context().Done():
			return
		case <-c.ctx.Done():
			return
		case <-tick.C:
			fmt.Fprint(w, ":\n\n")
		case msg, ok := <-ch:
			if !ok {
				return
			}
			fmt.Fprint(w, Event(msg))
		}
		flusher.Flush()
	}
}

// sseLineBreaks turns every line break SSE knows (CRLF, a lone CR, LF) into
// LF: a CR left inside a data line would end it early in a browser, which
// then shows half the message and reads the rest as an unknown field.
var sseLineBreaks = strings.NewReplacer("\r\n", "\n", "\r", "\n")

// Event formats one message as an SSE event. A multi-line message becomes
// several data lines, which a client joins back with newlines.
func Event(msg string) string {
	var b strings.Builder
	for _, line := range strings.Split(sseLineBreaks.Replace(msg), "\n") {
		b.WriteString("data:")
		b.WriteString(line)
		b.WriteString("\n")
	}
	b.WriteString("\n")
	return b.String()
}
