package output

import (
	"fmt"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/svcat-io/svcat/api/v1beta1"
)

// Condition is the part of a condition svcat shows. Every kind has its own
// condition type for wire compatibility; they all convert to this.
type Condition struct {
	Type    string
	Status  v1beta1.ConditionStatus
	Reason  string
	Message string
	Time    metav1.Time
}

// timeLayout is how v0.3 printed condition times (time.Time's String in
// UTC), kept so that the seed's describe output reads the same.
const timeLayout = "2006-01-02 15:04:05 -0700 MST"

// Short is what STATUS columns show: the type when the condition holds,
// otherwise the reason (v0.3's lastConditionState).
func (c Condition) Short() string {
	if c.Status == v1beta1.ConditionTrue {
		return c.Type
	}
	return c.Reason
}

// Full is what describe shows: "Ready - message @ time".
func (c Condition) Full() string {
	s := c.Short()
	if s == "" {
		return ""
	}
	return fmt.Sprintf("%s - %s @ %s", s, strings.TrimRight(c.Message, "."), c.Time.UTC().Format(timeLayout))
}

// String is for progress and error messages: "Ready=False (Reason): message".
func (c Condition) String() string {
	if c.Type == "" {
		return "no condition reported yet"
	}
	s := fmt.Sprintf("%s=%s", c.Type, c.Status)
	if c.Reason != "" {
		s += " (" + c.Reason + ")"
	}
	if c.Message != "" {
		s += ": " + c.Message
	}
	return s
}

// Since is how long ago the condition last changed, rounded for people.
func (c Condition) Since(now time.Time) time.Duration {
	if c.Time.IsZero() {
		return 0
	}
	return now.Sub(c.Time.Time).Round(time.Second)
}

// The last condition is the one v0.3 reported; controllers append the most
// recent observation last.
func last(cs []Condition) Condition {
	if len(cs) == 0 {
		return Condition{}
	}
	return cs[len(cs)-1]
}

// InstanceConditions converts an instance's conditions.
func InstanceConditions(s v1beta1.ServiceInstanceStatus) []Condition {
	out := make([]Condition, len(s.Conditions))
	for i, c := range s.Conditions {
		out[i] = Condition{string(c.Type), c.Status, c.Reason, c.Message, c.LastTransitionTime}
	}
	return out
}

// BindingConditions converts a binding's conditions.
func BindingConditions(s v1beta1.ServiceBindingStatus) []Condition {
	out := make([]Condition, len(s.Conditions))
	for i, c := range s.Conditions {
		out[i] = Condition{string(c.Type), c.Status, c.Reason, c.Message, c.LastTransitionTime}
	}
	return out
}

// BrokerConditions converts a broker's conditions.
func BrokerConditions(s v1beta1.CommonServiceBrokerStatus) []Condition {
	out := make([]Condition, len(s.Conditions))
	for i, c := range s.Conditions {
		out[i] = Condition{string(c.Type), c.Status, c.Reason, c.Message, c.LastTransitionTime}
	}
	return out
}

// InstanceCondition is the last condition of an instance.
func InstanceCondition(s v1beta1.ServiceInstanceStatus) Condition { return last(InstanceConditions(s)) }

// BindingCondition is the last condition of a binding.
func BindingCondition(s v1beta1.ServiceBindingStatus) Condition { return last(BindingConditions(s)) }

// BrokerCondition is the last condition of a broker.
func BrokerCondition(s v1beta1.CommonServiceBrokerStatus) Condition { return last(BrokerConditions(s)) }

// catalogStatus is the status of a class or plan.
func catalogStatus(removed bool) string {
	if removed {
		return "Deprecated"
	}
	return "Active"
}
