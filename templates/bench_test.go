package templates

import "testing"

// BenchmarkReply renders the reply with every category.
func BenchmarkReply(b *testing.B) {
	s := mustLoad(b)
	d := fullData(PlatformUnknown)
	d.Categories = categoryIDs()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.Reply(d); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRenderEvidenceNote renders the admins' evidence note.
func BenchmarkRenderEvidenceNote(b *testing.B) {
	s := mustLoad(b)
	d := fullData(PlatformIOS)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.Render(EvidenceNote, d); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkLoad loads, checks and test-renders the embedded templates.
func BenchmarkLoad(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Load(""); err != nil {
			b.Fatal(err)
		}
	}
}
