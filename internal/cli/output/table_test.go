package output

import (
	"strings"
	"testing"
)

func TestTableRender(t *testing.T) {
	tests := []struct {
		name  string
		table func() *Table
		want  []string
	}{{
		// The seed blog post's `svcat get classes`, before v0.3 added BROKER.
		name: "seed classes",
		table: func() *Table {
			t := NewListTable("Name", "Namespace", "Description")
			t.Append("cloudkarafka", "", "CloudKarafka")
			return t
		},
		want: []string{
			"      NAME       NAMESPACE   DESCRIPTION   ",
			"+--------------+-----------+--------------+",
			"  cloudkarafka               CloudKarafka  ",
		},
	}, {
		name: "seed plans",
		table: func() *Table {
			t := NewListTable("Name", "Namespace", "Class", "Description")
			t.Append("duck", "", "cloudkarafka", "Developer Duck")
			return t
		},
		want: []string{
			"  NAME   NAMESPACE      CLASS        DESCRIPTION    ",
			"+------+-----------+--------------+----------------+",
			"  duck               cloudkarafka   Developer Duck  ",
		},
	}, {
		name: "header only",
		table: func() *Table {
			return NewListTable("Name", "Namespace", "Class", "Plan", "Status")
		},
		want: []string{
			"  NAME   NAMESPACE   CLASS   PLAN   STATUS  ",
			"+------+-----------+-------+------+--------+",
		},
	}, {
		name: "details do not wrap",
		table: func() *Table {
			t := NewDetailsTable()
			t.Append("Name:", "demo-kafka")
			t.Append("Status:", "Ready - The instance was provisioned successfully @ 2019-01-06 11:52:19 +0000 UTC")
			return t
		},
		want: []string{
			"  Name:     demo-kafka                                                                         ",
			"  Status:   Ready - The instance was provisioned successfully @ 2019-01-06 11:52:19 +0000 UTC  ",
		},
	}, {
		// Like v0.3's get-plans golden file: descriptions wrap at 30
		// columns into even lines.
		name: "list cells wrap evenly",
		table: func() *Table {
			t := NewListTable("Name", "Description")
			t.Append("default", "Another sample plan description that's really really really really, kinda, wide")
			return t
		},
		want: []string{
			"   NAME             DESCRIPTION           ",
			"+---------+------------------------------+",
			"  default   Another sample plan           ",
			"            description that's really     ",
			"            really really really, kinda,  ",
			"            wide                          ",
		},
	}, {
		name: "variable column fills the page",
		table: func() *Table {
			t := NewListTable("Name", "Description")
			t.SetVariableColumn(1)
			t.Append("default", "Another sample plan description that's really really really really, kinda, wide")
			return t
		},
		want: []string{
			"   NAME                             DESCRIPTION                          ",
			"+---------+-------------------------------------------------------------+",
			"  default   Another sample plan description that's really really really  ",
			"            really, kinda, wide                                          ",
		},
	}, {
		name: "wide characters count twice",
		table: func() *Table {
			t := NewListTable("Name", "Description")
			t.Append("duck", "開発用")
			t.Append("bunny", "ab")
			return t
		},
		want: []string{
			"  NAME    DESCRIPTION  ",
			"+-------+-------------+",
			"  duck    開発用       ",
			"  bunny   ab           ",
		},
	}, {
		name: "escape sequences are neutralised",
		table: func() *Table {
			t := NewDetailsTable()
			t.Append("Description:", "evil\x1b[2J\rbroker")
			return t
		},
		want: []string{
			"  Description:   evil^[[2J\\rbroker  ",
		},
	}, {
		name: "long words keep their width",
		table: func() *Table {
			t := NewListTable("Name")
			t.Append("a-class-name-that-is-longer-than-thirty-columns")
			return t
		},
		want: []string{
			"                       NAME                        ",
			"+-------------------------------------------------+",
			"  a-class-name-that-is-longer-than-thirty-columns  ",
		},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b strings.Builder
			if err := tt.table().Render(&b); err != nil {
				t.Fatal(err)
			}
			want := strings.Join(tt.want, "\n") + "\n"
			if got := b.String(); got != want {
				t.Errorf("got:\n%s\nwant:\n%s", visible(got), visible(want))
			}
		})
	}
}

// visible marks line ends so trailing spaces show in failures.
func visible(s string) string { return strings.ReplaceAll(s, "\n", "|\n") }

func TestWrap(t *testing.T) {
	tests := []struct {
		text  string
		limit int
		want  []string
	}{
		{"", 10, []string{""}},
		{"short", 10, []string{"short"}},
		{"aaa bbb ccc", 7, []string{"aaa bbb", "ccc"}},
		// Greedy filling would give "aaa bb" / "cc" / "ddddd"; even lines
		// are preferred, and the last line's length does not count.
		{"aaa bb cc ddddd", 6, []string{"aaa", "bb cc", "ddddd"}},
		{"averyveryverylongword x", 5, []string{"averyveryverylongword", "x"}},
		{"  spaces   collapse  ", 30, []string{"spaces collapse"}},
	}
	for _, tt := range tests {
		got := Wrap(tt.text, tt.limit)
		if strings.Join(got, "|") != strings.Join(tt.want, "|") {
			t.Errorf("Wrap(%q, %d) = %q, want %q", tt.text, tt.limit, got, tt.want)
		}
	}
}
