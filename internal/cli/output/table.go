// Package output renders svcat's views: v0.3-shaped tables and describe
// blocks, and JSON or YAML of the objects themselves.
package output

import (
	"bufio"
	"io"
	"strings"

	"golang.org/x/text/width"
	"k8s.io/cli-runtime/pkg/printers"
)

const (
	// maxCellWidth is where list cells wrap. v0.3 wrapped at 30 columns and
	// scripts that scrape svcat's tables depend on the same layout.
	maxCellWidth = 30
	// pageWidth is the screen width a variable column may fill. Terminals
	// are not measured, so that output does not depend on who runs it.
	pageWidth = 80
)

// Table lays out cells the way v0.3's svcat did: two spaces before the first
// column, three between columns, two after the last, headers centred above a
// +----+ rule, every cell padded to its column's width.
type Table struct {
	header   []string
	rows     [][]string
	wrap     bool
	variable int
}

// NewListTable starts a table with a header row. Long cells wrap.
func NewListTable(header ...string) *Table {
	return &Table{header: header, wrap: true, variable: -1}
}

// NewDetailsTable starts a key/value table without a header; cells never
// wrap, so a long status line stays on one line.
func NewDetailsTable() *Table {
	return &Table{variable: -1}
}

// SetVariableColumn lets column i (0-based) grow to fill the page instead of
// wrapping at the usual width, for descriptions.
func (t *Table) SetVariableColumn(i int) { t.variable = i }

// Append adds a row.
func (t *Table) Append(cells ...string) { t.rows = append(t.rows, cells) }

// Len is the number of rows.
func (t *Table) Len() int { return len(t.rows) }

// Render writes the table.
func (t *Table) Render(w io.Writer) error {
	cols := len(t.header)
	for _, r := range t.rows {
		cols = max(cols, len(r))
	}
	if cols == 0 {
		return nil
	}
	limits := t.wrapLimits(cols)
	widths := make([]int, cols)
	header := make([][]string, cols)
	for i := range cols {
		if i < len(t.header) {
			header[i] = []string{strings.ToUpper(t.header[i])}
			widths[i] = textWidth(header[i][0])
		}
	}
	rows := make([][][]string, len(t.rows))
	for r, row := range t.rows {
		rows[r] = make([][]string, cols)
		for i := range cols {
			cell := ""
			if i < len(row) {
				cell = row[i]
			}
			lines := cellLines(cell, limits[i])
			rows[r][i] = lines
			for _, l := range lines {
				widths[i] = max(widths[i], textWidth(l))
			}
		}
	}

	bw := bufio.NewWriter(w)
	if len(t.header) > 0 {
		writeRow(bw, header, widths, true)
		bw.WriteString("+")
		for _, cw := range widths {
			bw.WriteString(strings.Repeat("-", cw+2))
			bw.WriteString("+")
		}
		bw.WriteString("\n")
	}
	for _, r := range rows {
		writeRow(bw, r, widths, false)
	}
	return bw.Flush()
}

// wrapLimits is how wide each column's lines may get before wrapping; 0
// means never wrap.
func (t *Table) wrapLimits(cols int) []int {
	limits := make([]int, cols)
	if !t.wrap {
		return limits
	}
	for i := range limits {
		limits[i] = maxCellWidth
	}
	if t.variable < 0 || t.variable >= cols {
		return limits
	}
	// The other columns are measured unwrapped except for words longer than
	// the limit, which is close enough for names: they have no spaces.
	used := 2
	for i := range cols {
		if i == t.variable {
			continue
		}
		w := 0
		if i < len(t.header) {
			w = textWidth(t.header[i])
		}
		for _, r := range t.rows {
			if i < len(r) {
				for _, l := range cellLines(r[i], maxCellWidth) {
					w = max(w, textWidth(l))
				}
			}
		}
		used += w + 3
	}
	limits[t.variable] = max(maxCellWidth, pageWidth-used-3)
	return limits
}

func writeRow(bw *bufio.Writer, cells [][]string, widths []int, centre bool) {
	height := 1
	for _, c := range cells {
		height = max(height, len(c))
	}
	for l := range height {
		for i, c := range cells {
			s := ""
			if l < len(c) {
				s = c[l]
			}
			gap := widths[i] - textWidth(s)
			left := 0
			if centre {
				left = gap / 2
			}
			if i == 0 {
				bw.WriteString("  ")
			} else {
				bw.WriteString("   ")
			}
			bw.WriteString(strings.Repeat(" ", left))
			bw.WriteString(s)
			bw.WriteString(strings.Repeat(" ", gap-left))
		}
		bw.WriteString("  \n")
	}
}

// cellLines splits a cell into its lines, wrapping each paragraph at limit
// when limit > 0. Escape sequences are neutralised: descriptions and
// messages come from brokers, which must not drive the user's terminal.
func cellLines(cell string, limit int) []string {
	paras := strings.Split(printers.EscapeTerminal(cell), "\n")
	if limit <= 0 {
		return paras
	}
	var out []string
	for _, p := range paras {
		out = append(out, Wrap(p, limit)...)
	}
	return out
}

// Wrap breaks text into lines of at most limit columns (longer words get a
// line of their own), choosing the breaks that make the lines most even:
// the sum of the squared gaps at the ends of all lines but the last is as
// small as possible. Even lines read better in a narrow column than greedy
// filling, and they are what v0.3 printed.
func Wrap(text string, limit int) []string {
	words := strings.Fields(text)
	if len(words) == 0 {
		return []string{""}
	}
	n := len(words)
	// cost[i] is the least raggedness of words[i:], next[i] where the line
	// starting at word i ends.
	cost := make([]int, n+1)
	next := make([]int, n+1)
	for i := n - 1; i >= 0; i-- {
		cost[i] = -1
		lineWidth := -1
		for j := i; j < n; j++ {
			lineWidth += 1 + textWidth(words[j])
			if lineWidth > limit && j > i {
				break
			}
			c := 0
			if j < n-1 {
				gap := max(limit-lineWidth, 0)
				c = gap*gap + cost[j+1]
			}
			if cost[i] < 0 || c < cost[i] {
				cost[i], next[i] = c, j+1
			}
		}
	}
	var lines []string
	for i := 0; i < n; i = next[i] {
		lines = append(lines, strings.Join(words[i:next[i]], " "))
	}
	return lines
}

// textWidth is the number of terminal columns s takes: East Asian wide and
// full-width characters take two, so Japanese descriptions line up.
func textWidth(s string) int {
	n := 0
	for _, r := range s {
		switch width.LookupRune(r).Kind() {
		case width.EastAsianWide, width.EastAsianFullwidth:
			n += 2
		default:
			n++
		}
	}
	return n
}
