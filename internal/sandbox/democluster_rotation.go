package sandbox

import (
	"context"
	"fmt"
	"time"
)

// Svcat runs svcat in process with the cluster's kubeconfig, as the
// walkthrough's svcat steps do, printing the command and its output; the
// output must contain want.
func (c *Cluster) Svcat(ctx context.Context, want string, args ...string) error {
	return c.svcatExpect(ctx, contains(want), args...)
}

// Deliver opens a new stream on the consumer's NodePort, posts msgs to the
// producer's and returns the events the stream delivered up to and
// including the last of msgs. Events before it are returned too, not
// refused: a consumer that reconnected may deliver again what it had not
// committed (Kafka's at-least-once), and the caller decides what that
// means.
func (c *Cluster) Deliver(ctx context.Context, res *Result, msgs ...string) ([]string, error) {
	if len(msgs) == 0 {
		return nil, nil
	}
	st, err := c.openStream(ctx, res.ConsumerURL+"/messages")
	if err != nil {
		return nil, c.fail("open the stream", err)
	}
	defer st.close()
	for _, m := range msgs {
		if err := c.post(ctx, res.ProducerURL+"/messages", m); err != nil {
			return nil, err
		}
	}
	c.printf("\n# what the stream delivered:\n")
	last := msgs[len(msgs)-1]
	deadline := time.Now().Add(c.opts.StepTimeout)
	var events []string
	for len(events) == 0 || events[len(events)-1] != last {
		got, raw, err := st.collect(ctx, 1, time.Until(deadline))
		c.printf("%s", raw)
		events = append(events, got...)
		if err != nil {
			return events, c.fail("stream", fmt.Errorf("%v; delivered %q, waiting for %q", err, events, last))
		}
	}
	return events, nil
}
