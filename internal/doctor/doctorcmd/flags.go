package doctorcmd

import (
	"fmt"
	"slices"
	"strings"
)

// Flag values that check themselves as they are parsed, so that a bad value
// is a flag error: the svcat root turns those into usage errors (exit 2)
// without this package importing it.

// choiceValue is a string flag limited to some values.
type choiceValue struct {
	value   *string
	allowed []string
}

func newChoice(p *string, def string, allowed ...string) *choiceValue {
	*p = def
	return &choiceValue{value: p, allowed: allowed}
}

func (c *choiceValue) String() string { return *c.value }
func (c *choiceValue) Type() string   { return "string" }
func (c *choiceValue) Set(s string) error {
	if !slices.Contains(c.allowed, s) {
		return fmt.Errorf("use one of %s", strings.Join(c.allowed, ", "))
	}
	*c.value = s
	return nil
}

// checkedValue is a string flag, or a repeatable comma-separated list
// when list is set, whose items check must accept.
type checkedValue struct {
	values *[]string
	list   bool
	check  func(string) error
}

func (c *checkedValue) String() string { return strings.Join(*c.values, ",") }
func (c *checkedValue) Type() string {
	if c.list {
		return "strings"
	}
	return "string"
}
func (c *checkedValue) Set(s string) error {
	items := []string{s}
	if c.list {
		items = strings.Split(s, ",")
	}
	for _, it := range items {
		if err := c.check(it); err != nil {
			return err
		}
	}
	if c.list {
		*c.values = append(*c.values, items...)
	} else {
		*c.values = items
	}
	return nil
}
