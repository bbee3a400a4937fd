// Package ceproxystore reads the store directory of Red Hat's
// cloud-event-proxy (its --store-path), so that its subscriptions and
// publishers can be imported into the bridge:
//
//   - sub.json and pub.json, written by the v1 PubSub API: each a JSON
//     array of PubSub objects (v1 keys id, endpointUri, uriLocation,
//     resource; the v2 keys are accepted too);
//   - <clientID>.json, one per v2 subscriber client: {"clientID",
//     "subStore": {"store": {"<id>": SubscriptionInfo}}, "EndpointUri",
//     "status", "action"}. Like cloud-event-proxy's ReloadStore, only
//     files whose base name is a UUID are read.
//
// Every other file is reported as skipped. The same subscription found in
// more than one file is returned once.
package ceproxystore

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/google/uuid"

	"github.com/eventbridge-dev/eventbridge/internal/oran"
)

// MaxFileSize bounds one store file.
const MaxFileSize = 16 << 20

// Files of the v1 PubSub API.
const (
	SubFile = "sub.json"
	PubFile = "pub.json"
)

// Entry is one subscription or publisher found in the store.
type Entry struct {
	oran.PubSub
	// File is the base name of the file it was read from.
	File string
}

// Note is a file, or an entry, that was not taken, and why.
type Note struct {
	File   string `json:"file"`
	ID     string `json:"id,omitempty"` // the entry's id, when the note is about one entry
	Reason string `json:"reason"`
}

// Store is what a store directory holds.
type Store struct {
	Entries []Entry
	// Skipped are the files and entries left out: files that are not
	// store files, empty files, duplicates.
	Skipped []Note
}

// client is a v2 subscriber client file (sdk-go v1/subscriber).
type client struct {
	ClientID string `json:"clientID"`
	SubStore *struct {
		Store map[string]oran.PubSub `json:"store"`
	} `json:"subStore"`
	EndpointURI string `json:"EndpointUri"`
	Status      int    `json:"status"`
	Action      int    `json:"action"`
}

// Read reads a store directory. A file that cannot be read or parsed is
// an error naming it: the operator should look before importing half a
// store.
func Read(dir string) (*Store, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("store path: %w", err)
	}
	names := make([]string, 0, len(ents))
	for _, e := range ents {
		names = append(names, e.Name())
	}
	// The v1 files first, then the client files by name: a stable order,
	// and the first file that names an id wins.
	sort.SliceStable(names, func(i, j int) bool {
		return rank(names[i]) < rank(names[j]) || (rank(names[i]) == rank(names[j]) && names[i] < names[j])
	})
	s := &Store{}
	seen := map[string]string{} // kind/id -> file
	add := func(file string, p oran.PubSub) {
		key := p.Kind + "/" + p.ID
		if p.ID != "" {
			if first, ok := seen[key]; ok {
				s.Skipped = append(s.Skipped, Note{File: file, ID: p.ID, Reason: "duplicate: already read from " + first})
				return
			}
			seen[key] = file
		}
		s.Entries = append(s.Entries, Entry{PubSub: p, File: file})
	}
	for _, name := range names {
		path := filepath.Join(dir, name)
		info, err := os.Stat(path)
		if err != nil {
			return nil, err
		}
		if info.IsDir() {
			s.Skipped = append(s.Skipped, Note{File: name, Reason: "a directory"})
			continue
		}
		kind, ok := fileKind(name)
		if !ok {
			s.Skipped = append(s.Skipped, Note{File: name, Reason: "not a store file (sub.json, pub.json or <client UUID>.json)"})
			continue
		}
		b, err := readFile(path)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		if len(strings.TrimSpace(string(b))) == 0 {
			s.Skipped = append(s.Skipped, Note{File: name, Reason: "empty"})
			continue
		}
		switch kind {
		case oran.KindSubscription, oran.KindPublisher: // sub.json, pub.json
			var list []oran.PubSub
			if err := json.Unmarshal(b, &list); err != nil {
				return nil, fmt.Errorf("%s: not a JSON array of subscriptions: %w", name, err)
			}
			for _, p := range list {
				p.Kind = kind
				p.Version = versionOf(p.URILocation, oran.V1)
				add(name, p)
			}
		default: // a client file
			var c client
			if err := json.Unmarshal(b, &c); err != nil {
				return nil, fmt.Errorf("%s: not a subscriber client file: %w", name, err)
			}
			if c.SubStore == nil || len(c.SubStore.Store) == 0 {
				s.Skipped = append(s.Skipped, Note{File: name, Reason: "a client without subscriptions"})
				continue
			}
			ids := make([]string, 0, len(c.SubStore.Store))
			for id := range c.SubStore.Store {
				ids = append(ids, id)
			}
			sort.Strings(ids)
			for _, id := range ids {
				p := c.SubStore.Store[id]
				p.Kind = oran.KindSubscription
				if p.ID == "" {
					p.ID = id
				}
				if p.EndpointURI == "" {
					p.EndpointURI = c.EndpointURI
				}
				p.Version = versionOf(p.URILocation, oran.V2)
				add(name, p)
			}
		}
	}
	return s, nil
}

// rank orders sub.json, pub.json, then everything else.
func rank(name string) int {
	switch name {
	case SubFile:
		return 0
	case PubFile:
		return 1
	}
	return 2
}

// fileKind tells sub.json and pub.json (their kind) from client files
// (kind "client"); ok is false for any other file.
func fileKind(name string) (kind string, ok bool) {
	switch name {
	case SubFile:
		return oran.KindSubscription, true
	case PubFile:
		return oran.KindPublisher, true
	}
	base, isJSON := strings.CutSuffix(name, ".json")
	if !isJSON {
		return "", false
	}
	if _, err := uuid.Parse(base); err != nil {
		return "", false
	}
	return "client", true
}

// versionOf is the API version a uriLocation names, else def.
func versionOf(uriLocation, def string) string {
	switch {
	case strings.Contains(uriLocation, "/api/ocloudNotifications/v1/"):
		return oran.V1
	case strings.Contains(uriLocation, "/api/ocloudNotifications/v2/"):
		return oran.V2
	}
	return def
}

func readFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err != nil {
		return nil, err
	}
	if len(b) > MaxFileSize {
		return nil, errors.New("larger than 16 MiB")
	}
	return b, nil
}
