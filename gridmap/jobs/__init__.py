"""Long work as jobs kept in PostgreSQL: queued with procrastinate, run by workers anywhere.

- :mod:`gridmap.jobs.service` starts, reads and cancels jobs (what the API and CLI call);
- :mod:`gridmap.jobs.queue` is the procrastinate queue the work goes through;
- :mod:`gridmap.jobs.runner` runs one job's work in a child process and follows it;
- :mod:`gridmap.jobs.work` is the work itself (a re-partition, a coverage run);
- :mod:`gridmap.jobs.worker` runs workers: ``gridmap worker``, or a thread in the API.
"""
