"""X-Agent's Locust suite, rebuilt from the API contract's description of it.

Used by run.sh to check that real Locust sees from the fake only the failures
the real API gives: the same classes, weights, waits, names, payloads and
success rules as the Go scenarios in internal/xagent.
"""
from locust import HttpUser, between, task


def judge(response, ok_codes):
    if response.status_code in ok_codes:
        response.success()
    else:
        response.failure(f"Got status code {response.status_code}")


class XAgentAPIUser(HttpUser):
    wait_time = between(1, 3)

    def on_start(self):
        self.goal_ids = []

    @task(3)
    def get_status(self):
        with self.client.get("/status", name="GET /status", catch_response=True) as r:
            judge(r, (200,))

    @task(2)
    def list_goals(self):
        with self.client.get("/goals", name="GET /goals", catch_response=True) as r:
            judge(r, (200, 401))

    @task(1)
    def create_goal(self):
        body = {"description": "Performance test goal", "mode": "one_time", "priority": 5}
        with self.client.post("/goals", json=body, name="POST /goals", catch_response=True) as r:
            judge(r, (200, 201, 401))
            if r.status_code in (200, 201):
                goal_id = r.json().get("id")  # X-Agent answers goal.id, so this finds nothing
                if goal_id:
                    self.goal_ids.append(goal_id)

    @task(1)
    def health_check(self):
        with self.client.get("/health", name="GET /health", catch_response=True) as r:
            judge(r, (200,))

    @task(2)
    def ready_check(self):
        with self.client.get("/ready", name="GET /ready", catch_response=True) as r:
            judge(r, (200, 503))

    def on_stop(self):
        for goal_id in self.goal_ids:
            try:
                self.client.delete(f"/goals/{goal_id}", name="DELETE /goals/{id}")
            except Exception:
                pass


class XAgentAuthenticatedUser(HttpUser):
    wait_time = between(0.5, 2)

    def on_start(self):
        self.headers = {}
        r = self.client.post("/auth/login", json={"username": "admin", "password": "admin"})
        if r.status_code == 200:
            self.headers = {"Authorization": f"Bearer {r.json()['access_token']}"}

    @task(5)
    def get_status_auth(self):
        self.client.get("/status", headers=self.headers, name="GET /status (auth)")

    @task(3)
    def list_goals_auth(self):
        self.client.get("/goals", headers=self.headers, name="GET /goals (auth)")

    @task(2)
    def create_goal_auth(self):
        body = {"description": "Authenticated performance test goal", "mode": "one_time", "priority": 5}
        self.client.post("/goals", json=body, headers=self.headers, name="POST /goals (auth)")


class XAgentStressUser(HttpUser):
    wait_time = between(0.1, 0.5)

    @task
    def rapid_health(self):
        self.client.get("/healthz", name="GET /healthz (stress)")

    @task
    def rapid_status(self):
        self.client.get("/status", name="GET /status (stress)")
