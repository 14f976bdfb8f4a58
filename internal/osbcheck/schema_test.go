package osbcheck

import "testing"

// OSB's plan schemas are draft-04 unless they say otherwise, and the
// checker must read them as the controller does: a draft-04 schema with a
// boolean exclusiveMaximum is valid there (and invalid in later drafts).
func TestSchemasReadAsTheControllerReadsThem(t *testing.T) {
	draft4 := map[string]any{"type": "object", "properties": map[string]any{
		"n": map[string]any{"type": "number", "maximum": 2, "exclusiveMaximum": true},
	}}
	if err := compileSchema(draft4); err != nil {
		t.Fatalf("a draft-04 schema: %v", err)
	}
	remote := map[string]any{"$ref": "https://example.invalid/schema.json"}
	if err := compileSchema(remote); err == nil {
		t.Fatal("a schema that needs a remote document compiled")
	}
}
