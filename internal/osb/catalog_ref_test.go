package osb

import (
	"bytes"
	"encoding/json"
	"io"
)

// refStats measures a JSON document's nesting depth and number of values
// with encoding/json's tokenizer: the reference the scanner is held to.
func refStats(body []byte) (depth int, values int64, err error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	type frame struct{ object, awaitingKey bool }
	var stack []frame
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			return depth, values, nil
		}
		if err != nil {
			return 0, 0, err
		}
		d, delim := tok.(json.Delim)
		if delim && (d == '}' || d == ']') {
			stack = stack[:len(stack)-1]
			continue
		}
		if k := len(stack); k > 0 && stack[k-1].object {
			if stack[k-1].awaitingKey {
				stack[k-1].awaitingKey = false
				continue
			}
			stack[k-1].awaitingKey = true
		}
		values++
		if delim {
			stack = append(stack, frame{object: d == '{', awaitingKey: d == '{'})
			depth = max(depth, len(stack))
		}
	}
}
