package catalogspec

import "testing"

func TestObjectName(t *testing.T) {
	cases := []struct{ id, want string }{
		{"d21df959-6da8-495f-a8b6-ddc51d49eea2", "d21df959-6da8-495f-a8b6-ddc51d49eea2"},
		{"e64a8b50-be7f-48cf-9010-9ccb7fe075b5", "e64a8b50-be7f-48cf-9010-9ccb7fe075b5"},
		{"mysql.small", "mysql.small"},
		{"UPPER", "z55zz50zz50zz45zz52z"},
		{"zebra", "z7azebra"},
		{"-leading", "z2dzleading"},
		{"trailing-", "trailingz2dz"},
		{".dot", "z2ezdot"},
		{"a.-b", "a.z2dzb"},
		{"a-.b", "a-z2ezb"},
		{"a..b", "a.z2ezb"},
		{"under_score", "underz5fzscore"},
		{"ünï", "zfcznzefz"},
		// Too long: the first 30 characters, '-', and the MD5 of the ID.
		{"0123456789012345678901234567890123456789012345678901234567890123456789", "012345678901234567890123456789-109eb12c10c45d94ddac8eca7b818bed"},
		// A '.' at position 30 is dropped before the hash is appended.
		{"01234567890123456789012345678.90123456789012345678901234567890123456789", "01234567890123456789012345678-308ddcc58da3e6d3c517778d15d8d45f"},
	}
	for _, tc := range cases {
		if got := ObjectName(tc.id); got != tc.want {
			t.Errorf("ObjectName(%q) = %q, want %q", tc.id, got, tc.want)
		}
		if n := len(ObjectName(tc.id)); n > maxNameLength {
			t.Errorf("ObjectName(%q) is %d characters long", tc.id, n)
		}
	}
}
