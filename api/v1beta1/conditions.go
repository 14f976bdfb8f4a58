package v1beta1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/svcat-io/svcat/internal/brokertext"
)

// condition is the shape every condition of this API shares; each kind has
// its own Go type for wire compatibility, so the logic below is written once
// over this shape and the kinds convert in and out.
//
// +kubebuilder:object:generate=false
type condition struct {
	Type               string
	Status             ConditionStatus
	Reason, Message    string
	LastTransitionTime metav1.Time
}

// setCondition updates or appends a condition and returns whether anything
// changed. The transition time moves only when the status changes, as
// kubectl users expect from Kubernetes conditions.
func setCondition[C any](list *[]C, in condition, to func(condition) C, from func(C) condition) bool {
	// Messages quote brokers and users, and tenants read them: every one is
	// bounded, on one line and redacted, whoever built it.
	in.Message = brokertext.Clean(in.Message, brokertext.MaxMessage)
	for i, c := range *list {
		old := from(c)
		if old.Type != in.Type {
			continue
		}
		if old.Status == in.Status && old.Reason == in.Reason && old.Message == in.Message {
			return false
		}
		if old.Status == in.Status {
			in.LastTransitionTime = old.LastTransitionTime
		}
		(*list)[i] = to(in)
		return true
	}
	*list = append(*list, to(in))
	return true
}

// lastConditionState is what v0.3 shows in STATUS columns: the last
// condition's type if it is True, otherwise its reason.
func lastConditionState[C any](list []C, from func(C) condition) string {
	if len(list) == 0 {
		return ""
	}
	c := from(list[len(list)-1])
	if c.Status == ConditionTrue {
		return c.Type
	}
	return c.Reason
}

// removeCondition drops the conditions of type t. Only the helpers below
// call it: each refreshes lastConditionState after it, which a caller
// editing the list itself would forget.
func removeCondition[C any](list []C, t string, from func(C) condition) []C {
	out := list[:0]
	for _, c := range list {
		if from(c).Type != t {
			out = append(out, c)
		}
	}
	return out
}

func brokerCondTo(c condition) ServiceBrokerCondition {
	return ServiceBrokerCondition{Type: ServiceBrokerConditionType(c.Type), Status: c.Status, Reason: c.Reason, Message: c.Message, LastTransitionTime: c.LastTransitionTime}
}

func brokerCondFrom(c ServiceBrokerCondition) condition {
	return condition{Type: string(c.Type), Status: c.Status, Reason: c.Reason, Message: c.Message, LastTransitionTime: c.LastTransitionTime}
}

// SetCondition records a condition and refreshes lastConditionState; it
// returns whether the status changed.
func (s *CommonServiceBrokerStatus) SetCondition(t ServiceBrokerConditionType, status ConditionStatus, reason, message string, now metav1.Time) bool {
	changed := setCondition(&s.Conditions, condition{string(t), status, reason, message, now}, brokerCondTo, brokerCondFrom)
	s.LastConditionState = lastConditionState(s.Conditions, brokerCondFrom)
	return changed
}

// RemoveCondition drops a condition of the given type, if present, and
// refreshes lastConditionState.
func (s *CommonServiceBrokerStatus) RemoveCondition(t ServiceBrokerConditionType) {
	s.Conditions = removeCondition(s.Conditions, string(t), brokerCondFrom)
	s.LastConditionState = lastConditionState(s.Conditions, brokerCondFrom)
}

// GetCondition returns the condition of the given type, or nil.
func (s *CommonServiceBrokerStatus) GetCondition(t ServiceBrokerConditionType) *ServiceBrokerCondition {
	for i := range s.Conditions {
		if s.Conditions[i].Type == t {
			return &s.Conditions[i]
		}
	}
	return nil
}

func instanceCondTo(c condition) ServiceInstanceCondition {
	return ServiceInstanceCondition{Type: ServiceInstanceConditionType(c.Type), Status: c.Status, Reason: c.Reason, Message: c.Message, LastTransitionTime: c.LastTransitionTime}
}

func instanceCondFrom(c ServiceInstanceCondition) condition {
	return condition{Type: string(c.Type), Status: c.Status, Reason: c.Reason, Message: c.Message, LastTransitionTime: c.LastTransitionTime}
}

// SetCondition records a condition and refreshes lastConditionState; it
// returns whether the status changed.
func (s *ServiceInstanceStatus) SetCondition(t ServiceInstanceConditionType, status ConditionStatus, reason, message string, now metav1.Time) bool {
	changed := setCondition(&s.Conditions, condition{string(t), status, reason, message, now}, instanceCondTo, instanceCondFrom)
	s.LastConditionState = lastConditionState(s.Conditions, instanceCondFrom)
	return changed
}

// SetAdvisoryCondition is SetCondition for a condition that advises
// (UpgradeAvailable) rather than states what the instance is: a new one
// goes first, so the last condition, which v0.3 clients, kubectl's STATUS
// column and lastConditionState report, stays Ready or Failed.
func (s *ServiceInstanceStatus) SetAdvisoryCondition(t ServiceInstanceConditionType, status ConditionStatus, reason, message string, now metav1.Time) bool {
	isNew := s.GetCondition(t) == nil
	changed := s.SetCondition(t, status, reason, message, now)
	if isNew && len(s.Conditions) > 1 {
		n := len(s.Conditions) - 1
		added := s.Conditions[n]
		copy(s.Conditions[1:], s.Conditions[:n])
		s.Conditions[0] = added
		s.LastConditionState = lastConditionState(s.Conditions, instanceCondFrom)
	}
	return changed
}

// RemoveCondition drops a condition of the given type, if present, and
// refreshes lastConditionState.
func (s *ServiceInstanceStatus) RemoveCondition(t ServiceInstanceConditionType) {
	s.Conditions = removeCondition(s.Conditions, string(t), instanceCondFrom)
	s.LastConditionState = lastConditionState(s.Conditions, instanceCondFrom)
}

// GetCondition returns the condition of the given type, or nil.
func (s *ServiceInstanceStatus) GetCondition(t ServiceInstanceConditionType) *ServiceInstanceCondition {
	for i := range s.Conditions {
		if s.Conditions[i].Type == t {
			return &s.Conditions[i]
		}
	}
	return nil
}

func bindingCondTo(c condition) ServiceBindingCondition {
	return ServiceBindingCondition{Type: ServiceBindingConditionType(c.Type), Status: c.Status, Reason: c.Reason, Message: c.Message, LastTransitionTime: c.LastTransitionTime}
}

func bindingCondFrom(c ServiceBindingCondition) condition {
	return condition{Type: string(c.Type), Status: c.Status, Reason: c.Reason, Message: c.Message, LastTransitionTime: c.LastTransitionTime}
}

// SetCondition records a condition and refreshes lastConditionState; it
// returns whether the status changed.
func (s *ServiceBindingStatus) SetCondition(t ServiceBindingConditionType, status ConditionStatus, reason, message string, now metav1.Time) bool {
	changed := setCondition(&s.Conditions, condition{string(t), status, reason, message, now}, bindingCondTo, bindingCondFrom)
	s.LastConditionState = lastConditionState(s.Conditions, bindingCondFrom)
	return changed
}

// RemoveCondition drops a condition of the given type, if present, and
// refreshes lastConditionState.
func (s *ServiceBindingStatus) RemoveCondition(t ServiceBindingConditionType) {
	s.Conditions = removeCondition(s.Conditions, string(t), bindingCondFrom)
	s.LastConditionState = lastConditionState(s.Conditions, bindingCondFrom)
}

// GetCondition returns the condition of the given type, or nil.
func (s *ServiceBindingStatus) GetCondition(t ServiceBindingConditionType) *ServiceBindingCondition {
	for i := range s.Conditions {
		if s.Conditions[i].Type == t {
			return &s.Conditions[i]
		}
	}
	return nil
}
