"""Jobs under Ray Serve on two nodes sharing one job store (PostgreSQL + SeaweedFS).

A local Ray cluster of two nodes on loopback (`ray.cluster_utils.Cluster`, its temp dir under the
test's, RAY_TMPDIR): each node offers one `ocr_ingress` resource, which every ingress replica asks for, so the
two replicas run one on each node.  Each node has its own Serve proxy (the worker node's on a port
of its own, RAY_SERVE_WORKER_PROXY_HTTP_PORT, as two proxies on one address would collide), and a
proxy sends requests to the replica on its node, so each port reaches one node's replica.
`ocrserve serve --ray` joins the cluster and deploys the application.

Two jobs of one three-page PDF are submitted through the head node: its replica takes the first,
the worker node's replica (polling the shared queue) the second.  Both are polled and downloaded
through both nodes, and each must have every page once, the same as the other.

The nodes are started without the S3 variables: only the process running `ocrserve serve --ray`
has them, and its replicas get them through Ray's runtime environment (OCR_RAY_FORWARD_ENV).  Links
are presigned (OCR_JOB_LINKS=presigned) for a public endpoint of another name than the one the
replicas use (OCR_JOB_LINKS_ENDPOINT), and each node's replica signs a redirect that works there.
"""

from __future__ import annotations

import json

import httpx
import pytest

from _support.server import free_port, server_process, wait_ready
from _support.shared_store import AUTH, BUCKET, JOBS, PREFIX, ended, instance_env, submit, wait_for
from _support.workers import sample
from ocrserve.settings import AWS_VARIABLES

RESOURCE = "ocr_ingress"
PDF = "pdf/smi_p8-10.pdf"  # three pages, each with its own text
PAGES = 3


@pytest.fixture
def two_nodes(tmp_path_factory, postgres, seaweed):
    """(head URL, worker URL): the application on a two-node cluster, one ingress replica per node."""
    from ray.cluster_utils import Cluster

    ray_tmp = tmp_path_factory.mktemp("ray")  # short: Ray's socket paths below it must stay within 107 bytes
    with pytest.MonkeyPatch.context() as env:
        # the nodes' processes and the driver inherit these: Ray's files under the test's tmp dir; no
        # usage report; a loopback address kept as it is (Ray otherwise swaps it for the machine's IP,
        # unless told, by the switch it has for single-machine platforms, that the cluster is local);
        # and no S3 variables: the replicas must get them from the driver
        ray_env = {"RAY_TMPDIR": str(ray_tmp), "RAY_USAGE_STATS_ENABLED": "0", "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0"}
        for name, value in ray_env.items():
            env.setenv(name, value)
        for name in AWS_VARIABLES:
            env.delenv(name, raising=False)
        node = {"num_cpus": 1, "resources": {RESOURCE: 1}, "node_ip_address": "127.0.0.1",
                "include_dashboard": False, "object_store_memory": 100 * 1024 * 1024}
        worker_port = free_port()
        cluster = Cluster(initialize_head=True, head_node_args=node)
        try:
            cluster.add_node(**node, env_vars={"RAY_SERVE_WORKER_PROXY_HTTP_PORT": str(worker_port)})
            serve_env = instance_env(
                tmp_path_factory, postgres.url, seaweed, OCR_RAY_ADDRESS=cluster.address,
                OCR_RAY_INGRESS_REPLICAS="2", OCR_RAY_INGRESS_CPUS="0.5", OCR_RAY_INGRESS_RESOURCES=f"{RESOURCE}=1",
                OCR_RAY_REC_CPUS="0.5", OCR_JOB_LEASE_S="10", OCR_JOB_LINKS="presigned",
                OCR_JOB_LINKS_ENDPOINT=public_endpoint(seaweed))
            with server_process(tmp_path_factory, serve_env, ("--ray",), ready_timeout=240) as (head, proc, log):
                worker = f"http://127.0.0.1:{worker_port}"
                wait_ready(proc, worker, log, timeout=120)
                yield head, worker
                proc.terminate()
                assert proc.wait(timeout=60) == 0, log.read_text()
        finally:
            cluster.shutdown()


def public_endpoint(seaweed) -> str:
    """The S3 server under another host name, as clients outside a cluster would reach it."""
    return seaweed.endpoint.replace("127.0.0.1", "localhost")


def metrics(base: str) -> str:
    return httpx.get(f"{base}/metrics", timeout=10).text


def jsonl(url: str) -> str:
    answer = httpx.get(url, timeout=60)
    assert answer.status_code == 200, answer.text
    return answer.text


def test_jobs_submitted_on_one_node_are_run_polled_and_downloaded_on_both(two_nodes, seaweed, samples_dir):
    head, worker = two_nodes
    before = {base: metrics(base) for base in two_nodes}
    submitted = [submit(head, samples_dir / PDF, {"pdfText": "ocr", "outputFormats": ["txt"]}) for _ in range(2)]
    assert all(answer.status_code == 200 for answer in submitted), [a.text for a in submitted]
    job_ids = [answer.json()["data"]["jobId"] for answer in submitted]
    statuses = [wait_for(worker, job_id, ended) for job_id in job_ids]
    after = {base: metrics(base) for base in two_nodes}

    # each node's port reached its own replica: the submissions were counted by the head's only
    posts = {base: sample(after[base], "ocrserve_requests_total", route=JOBS, method="POST")
             - sample(before[base], "ocrserve_requests_total", route=JOBS, method="POST") for base in two_nodes}
    assert posts == {head: 2, worker: 0}
    # and both replicas read pages: one job ran on each node, its crops sent to the recognition deployment
    crops = {base: sample(after[base], "ocrserve_rec_remote_crops_total")
             - sample(before[base], "ocrserve_rec_remote_crops_total") for base in two_nodes}
    assert all(count > 0 for count in crops.values()), crops
    recorded = sum(sample(after[base], "ocrserve_job_store_seconds_count", call="progress")
                   - sample(before[base], "ocrserve_job_store_seconds_count", call="progress") for base in two_nodes)
    assert recorded == 2 * PAGES  # each page recorded in the index once, by one of the two nodes

    results = []
    for job_id, status in zip(job_ids, statuses, strict=True):
        assert status["state"] == "done" and status["extractProgress"]["extractedPages"] == PAGES, status
        url = status["resultUrl"]["jsonUrl"]
        assert url.startswith(worker)  # made absolute with the host the status call used
        from_worker, from_head = jsonl(url), jsonl(url.replace(worker, head))
        assert from_worker == from_head
        results.append(from_worker)
        assert httpx.get(f"{head}{JOBS}/{job_id}", headers=AUTH, timeout=30).json()["data"]["state"] == "done"
        for base in two_nodes:  # each node's replica signs a redirect to the public endpoint
            redirect = httpx.get(status["resultUrl"]["txtUrl"].replace(worker, base), timeout=60)
            assert redirect.status_code == 307, redirect.text
            location = redirect.headers["location"]
            assert location.startswith(f"{public_endpoint(seaweed)}/{BUCKET}/{PREFIX}/"), location
            txt = httpx.get(location, timeout=60)
            assert txt.status_code == 200 and txt.text.strip(), txt.text
        keys = seaweed.keys(BUCKET, f"{PREFIX}/{job_id}/pages/")
        assert sorted(key.rsplit("/", 1)[-1] for key in keys) == [f"{n:06d}.json" for n in range(PAGES)]
    lines = [json.loads(line) for line in results[0].splitlines()]
    texts = [line["result"]["ocrResults"][0]["prunedResult"]["rec_texts"] for line in lines]
    assert len(texts) == PAGES and all(texts) and len({tuple(t) for t in texts}) == PAGES  # every page once
    assert results[0] == results[1]  # each node read the document as the other did
