package osb

import "io"

// ReadCatalogBody is how the client reads a catalog answer of unknown
// length, for tests that count the bytes it takes from a reader.
func ReadCatalogBody(r io.Reader, lim CatalogLimits) ([]byte, error) {
	scan := newCatalogScanner(lim)
	return readBody(r, scan.lim.MaxBytes, -1, scan, nil)
}

// ReadChunk is readChunk.
const ReadChunk = readChunk

// RefStats is refStats.
var RefStats = refStats
