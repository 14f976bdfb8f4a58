package apiview

import (
	"context"
	"errors"
	"strconv"
	"time"

	"k8s.io/client-go/util/retry"

	"github.com/svcat-io/svcat/api/v1beta1"
)

// RequestRotation asks the controller to rotate the credentials of the
// binding ns/name once: it sets the rotation-request annotation to a fresh
// token and returns the token, which RotationOutcome looks for. It is what
// `svcat rotate binding` does, for the CLI and the UI alike.
func (c *Client) RequestRotation(ctx context.Context, ns, name string) (string, error) {
	token := strconv.FormatInt(time.Now().UnixNano(), 36)
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		b, err := c.Binding(ctx, ns, name)
		if err != nil {
			return err
		}
		if !b.DeletionTimestamp.IsZero() {
			return errors.New("binding " + strconv.Quote(name) + " is being deleted")
		}
		if b.Annotations == nil {
			b.Annotations = map[string]string{}
		}
		b.Annotations[v1beta1.AnnotationRotationRequest] = token
		return c.Update(ctx, b, ResServiceBindings)
	})
	return token, err
}

// RotationOutcome says whether the rotation asked for with token is over:
// done, and with the broker's refusal as err when it failed for good.
// message is the rotation's latest condition, for progress.
func RotationOutcome(b *v1beta1.ServiceBinding, token string) (done bool, message string, err error) {
	c := b.Status.GetCondition(v1beta1.ServiceBindingConditionRotation)
	if c != nil {
		message = c.Reason + ": " + c.Message
	}
	r := b.Status.Rotation
	if r == nil || r.LastRequest != token || r.Pending != nil {
		return false, message, nil
	}
	if c != nil && c.Status == v1beta1.ConditionFalse {
		return true, message, errors.New(c.Message)
	}
	return true, message, nil
}
