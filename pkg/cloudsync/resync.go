package cloudsync

// PlanSpecResync decides a source's answer to a spec resync request (spec
// §3.A): objs are the source's objects for the requesting cluster, req the
// versions the agent holds.
//
//   - an object being deleted is sent (as a deletion) whatever its version;
//   - any other object is sent when its version is 0 or greater than the
//     agent's version for its id (an id the agent did not list counts as 0);
//   - every id the agent listed that is not among objs is returned in
//     gone: the source answers it with a deletion.
//
// With no objects the source sends nothing: send and gone are empty.
func PlanSpecResync[T Object](objs []T, req ResourceVersionList) (send []T, gone []ResourceVersion) {
	if len(objs) == 0 {
		return nil, nil
	}
	agent := make(map[string]int64, len(req.Versions))
	for _, v := range req.Versions {
		if _, dup := agent[v.ResourceID]; !dup {
			agent[v.ResourceID] = v.ResourceVersion
		}
	}
	have := make(map[string]bool, len(objs))
	for _, obj := range objs {
		id := obj.GetUID()
		have[id] = true
		if obj.GetDeletionTimestamp() != nil {
			send = append(send, obj)
			continue
		}
		cur := obj.GetResourceVersion()
		if cur == 0 || cur > agent[id] {
			send = append(send, obj)
		}
	}
	for _, v := range req.Versions {
		if !have[v.ResourceID] {
			gone = append(gone, v)
			have[v.ResourceID] = true // once per id
		}
	}
	return send, gone
}

// PlanStatusResync decides an agent's answer to a status resync request
// (spec §3.B): objs are the agent's objects for the requesting source.
// With an empty hash list every object is sent; otherwise only the
// objects whose id is listed and whose current hash differs. Objects the
// source did not list are skipped. An object whose hash cannot be
// computed is skipped, as OCM does.
func PlanStatusResync[T Object](objs []T, req ResourceStatusHashList, hash StatusHashFunc[T]) []T {
	if len(req.Hashes) == 0 {
		return append([]T(nil), objs...)
	}
	want := make(map[string]string, len(req.Hashes))
	for _, h := range req.Hashes {
		if _, dup := want[h.ResourceID]; !dup {
			want[h.ResourceID] = h.StatusHash
		}
	}
	var send []T
	for _, obj := range objs {
		last, listed := want[obj.GetUID()]
		if !listed {
			continue
		}
		cur, err := hash(obj)
		if err != nil || cur == last {
			continue
		}
		send = append(send, obj)
	}
	return send
}
