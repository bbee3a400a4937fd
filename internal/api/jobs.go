package api

import (
	"errors"
	"net/http"
	"strings"

	"github.com/eventbridge-dev/eventbridge/internal/api/problem"
	"github.com/eventbridge-dev/eventbridge/internal/jobs/jobapi"
)

// JobList is every job.
type JobList struct {
	Items []jobapi.Info `json:"items"`
}

func (a *API) registerJobs(mux *http.ServeMux) {
	a.handle(mux, "GET /v1/jobs", ScopeRead, a.listJobs)
	a.handle(mux, "GET /v1/jobs/{name}", ScopeRead, a.getJob)
	a.handle(mux, "POST /v1/jobs/{action}", ScopeWrite, a.jobAction)
	a.handle(mux, "GET /v1/scheduler", ScopeRead, a.getScheduler)
}

func (a *API) listJobs(w http.ResponseWriter, r *http.Request) {
	out := JobList{Items: []jobapi.Info{}}
	if a.deps.Jobs != nil {
		out.Items = a.deps.Jobs.List(r.Context())
	}
	writeJSON(w, http.StatusOK, out)
}

func (a *API) getJob(w http.ResponseWriter, r *http.Request) {
	if a.deps.Jobs == nil {
		problem.Write(w, r, problem.NotFound, "no job "+r.PathValue("name"))
		return
	}
	info, err := a.deps.Jobs.Get(r.Context(), r.PathValue("name"))
	if err != nil {
		jobProblem(err).Write(w, r)
		return
	}
	writeJSON(w, http.StatusOK, info)
}

// jobAction serves POST /v1/jobs/{name}:run, :pause and :resume.
func (a *API) jobAction(w http.ResponseWriter, r *http.Request) {
	name, action, ok := strings.Cut(r.PathValue("action"), ":")
	if !ok || (action != "run" && action != "pause" && action != "resume") {
		problem.Write(w, r, problem.NotFound, "use POST /v1/jobs/{name}:run, :pause or :resume")
		return
	}
	if a.deps.Jobs == nil {
		problem.Write(w, r, problem.NotFound, "no job "+name)
		return
	}
	ctx := r.Context()
	var err error
	switch action {
	case "run":
		err = a.deps.Jobs.RunNow(ctx, name)
	case "pause":
		err = a.deps.Jobs.Pause(ctx, name)
	case "resume":
		err = a.deps.Jobs.Resume(ctx, name)
	}
	if err != nil {
		jobProblem(err).Write(w, r)
		return
	}
	info, err := a.deps.Jobs.Get(ctx, name)
	if err != nil {
		jobProblem(err).Write(w, r)
		return
	}
	status := http.StatusOK
	if action == "run" {
		w.Header().Set("Location", "/v1/jobs/"+name)
		status = http.StatusAccepted
	}
	writeJSON(w, status, info)
}

func (a *API) getScheduler(w http.ResponseWriter, r *http.Request) {
	if a.deps.Jobs == nil {
		writeJSON(w, http.StatusOK, jobapi.SchedulerInfo{Jobs: []jobapi.JobLease{}})
		return
	}
	writeJSON(w, http.StatusOK, a.deps.Jobs.Stats(r.Context()))
}

func jobProblem(err error) *problem.Problem {
	var nh *jobapi.NotHolderError
	switch {
	case errors.Is(err, jobapi.ErrNotFound):
		return problem.New(problem.NotFound, err.Error())
	case errors.As(err, &nh):
		return problem.New(problem.Conflict, "the job runs on instance "+nh.Holder+", which could not be reached; try again")
	case errors.Is(err, jobapi.ErrNotHolder):
		return problem.New(problem.Conflict, "another instance runs this job and could not be reached; try again")
	}
	return problem.New(problem.Unavailable, err.Error())
}
