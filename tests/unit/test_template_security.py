"""template.yaml's security and operations promises: who may call the API, what each function may touch,
what raises an alarm. Read from the template itself (the deployable truth), no AWS needed."""

from __future__ import annotations

import fnmatch
import json
import re
import tomllib
from datetime import UTC, datetime
from typing import Any

import pytest
import yaml

from local.template import ROOT, CfnLoader
from onair import keys

BUCKET = "onair-test-bucket"
FUNCTIONS = ("ApiFunction", "FeedFunction", "ImportFunction", "RunFunction", "RefreshFunction")
# Players cannot sign requests: the feed routes are open, their token is the credential. The console's
# files are open so that a browser can load the sign-in page; they hold no data.
CONSOLE_ROUTES = {"GET /console", "GET /console/{proxy+}"}
OPEN_ROUTES = {
    "GET /health",
    "GET /feeds/{token}/{name}",
    "HEAD /feeds/{token}/{name}",
    "GET /feeds/{token}/live/{channel}",
    "GET /feeds/{token}/live/{channel}/{rendition}",
    *CONSOLE_ROUTES,
}
LIBRARY_SEGMENT = keys.LIBRARY_PREFIX + "shows/a/seg_001.ts"
ID = "0b6f8c52-6d3e-4a4b-9a51-6f1c1d2e3f40"


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    return yaml.load((ROOT / "template.yaml").read_text(encoding="utf-8"), Loader=CfnLoader)


@pytest.fixture(scope="module")
def resources(template) -> dict[str, Any]:
    return template["Resources"]


def of_type(resources: dict[str, Any], kind: str) -> dict[str, Any]:
    return {rid: r for rid, r in resources.items() if r["Type"] == kind}


def evaluate(value: Any, template: dict[str, Any], parameters: dict[str, str]) -> Any:
    """The condition functions CloudFormation evaluates at deploy time, for the given parameter values."""
    if isinstance(value, list):
        return [evaluate(v, template, parameters) for v in value]
    if not isinstance(value, dict):
        return value
    if set(value) == {"Ref"}:
        name = value["Ref"]
        if name == "AWS::NoValue":
            return None
        if name in parameters:
            return parameters[name]
        spec = template["Parameters"].get(name)
        if spec is None:
            return value  # a resource: stays a reference
        default = str(spec.get("Default", ""))
        return default.split(",") if spec["Type"] == "CommaDelimitedList" else default
    if set(value) == {"Condition"}:
        return evaluate(template["Conditions"][value["Condition"]], template, parameters)
    (function, args), *rest = value.items()
    if rest:
        return {k: evaluate(v, template, parameters) for k, v in value.items()}
    if function == "Fn::If":
        name, then, otherwise = args
        chosen = then if evaluate(template["Conditions"][name], template, parameters) else otherwise
        return evaluate(chosen, template, parameters)
    if function == "Fn::Equals":
        left, right = evaluate(args, template, parameters)
        return left == right
    if function == "Fn::Not":
        return not evaluate(args[0], template, parameters)
    if function == "Fn::Join":
        separator, items = args
        joined = evaluate(items, template, parameters)
        if all(isinstance(item, str) for item in joined):
            return separator.join(joined)
        return {function: [separator, joined]}  # joins a resource's attribute: known at deploy time only
    return {function: evaluate(args, template, parameters)}


def enabled(resource: dict[str, Any], template: dict[str, Any], parameters: dict[str, str]) -> bool:
    condition = resource.get("Condition")
    return condition is None or evaluate(template["Conditions"][condition], template, parameters)


def routes(resources: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        r["Properties"]["RouteKey"]: r["Properties"]
        for r in of_type(resources, "AWS::ApiGatewayV2::Route").values()
    }


# --- Access ------------------------------------------------------------------------------------------------


def test_auth_mode_defaults_to_iam_and_offers_jwt_and_none(template):
    spec = template["Parameters"]["AuthMode"]
    assert spec["Default"] == "iam"
    assert set(spec["AllowedValues"]) == {"iam", "jwt", "none"}


@pytest.mark.parametrize(
    ("mode", "authorization", "authorizer"),
    [("iam", "AWS_IAM", None), ("jwt", "JWT", {"Ref": "JwtAuthorizer"}), ("none", "NONE", None)],
)
def test_every_route_but_health_is_authorized_as_auth_mode_says(
    template, resources, mode, authorization, authorizer
):
    # Given the template deployed with AuthMode=mode
    parameters = {"AuthMode": mode}
    # Then every route except GET /health and the feeds uses that mode's authorization (and the JWT
    # authorizer for jwt)
    protected = {key: props for key, props in routes(resources).items() if key not in OPEN_ROUTES}
    assert len(protected) >= 9
    for key, props in protected.items():
        assert evaluate(props.get("AuthorizationType"), template, parameters) == authorization, key
        assert evaluate(props.get("AuthorizerId"), template, parameters) == authorizer, key
    # And the JWT authorizer exists exactly when it is used
    assert enabled(resources["JwtAuthorizer"], template, parameters) == (mode == "jwt")


def test_the_default_deployment_signs_every_route_but_health_and_the_feeds(template, resources):
    for key, props in routes(resources).items():
        expected = "NONE" if key in OPEN_ROUTES else "AWS_IAM"
        assert evaluate(props.get("AuthorizationType", "NONE"), template, {}) == expected, key


@pytest.mark.parametrize("key", sorted(OPEN_ROUTES))
def test_health_and_feeds_stay_open_in_every_mode(template, resources, key):
    route = routes(resources)[key]
    for mode in ("iam", "jwt", "none"):
        assert evaluate(route["AuthorizationType"], template, {"AuthMode": mode}) == "NONE"
    assert "AuthorizerId" not in route


def test_console_routes_are_open_gets_of_the_api_function_under_console_only(template, resources):
    # Given every route that takes no authorization in the default (iam) deployment
    open_routes = {
        key
        for key, props in routes(resources).items()
        if evaluate(props.get("AuthorizationType", "NONE"), template, {}) == "NONE"
    }
    # Then the console's are GETs below /console (nothing that writes or reads data), served by ApiFunction
    assert open_routes == OPEN_ROUTES
    assert {key for key in open_routes if key.startswith("GET /console")} == CONSOLE_ROUTES
    for key in CONSOLE_ROUTES:
        props = routes(resources)[key]
        assert props["Target"] == {"Fn::Sub": "integrations/${ApiIntegration}"}
        # And no route key ends in "/" (API Gateway refuses it): /console/ is the greedy route's
        assert not key.endswith("/")


def test_api_function_tells_the_console_the_auth_mode_and_its_oidc_client(resources):
    env = resources["ApiFunction"]["Properties"]["Environment"]["Variables"]
    assert env["AUTH_MODE"] == {"Ref": "AuthMode"}
    assert env["OIDC_ISSUER"] == {"Ref": "JwtIssuer"}
    # the console's client id is the first accepted audience (API Gateway checks the token against it)
    assert env["OIDC_CLIENT_ID"] == {"Fn::Select": [0, {"Fn::Split": [",", {"Ref": "JwtAudience"}]}]}


def test_bucket_cors_lets_the_console_put_uploads_and_get_outputs_from_the_api_origin(template, resources):
    cors = resources["DataBucket"]["Properties"]["CorsConfiguration"]
    api_origin = template["Outputs"]["ApiUrl"]["Value"]
    # Given the default deployment, the one origin is the API's own (it serves /console/)
    (rule,) = evaluate(cors, template, {})["CorsRules"]
    assert rule["AllowedOrigins"] == [api_origin]
    assert set(rule["AllowedMethods"]) == {"PUT", "GET"}
    assert rule["AllowedHeaders"] == ["content-type"]  # what the presigned PUT signs and sends
    assert "*" not in json.dumps(rule)
    # And CorsAllowedOrigins (a custom domain, a signing proxy) are allowed as well
    (rule,) = evaluate(cors, template, {"CorsAllowedOrigins": ["https://ops.example.com"]})["CorsRules"]
    origins = rule["AllowedOrigins"]
    assert origins["Fn::Split"][0] == ","
    assert origins["Fn::Split"][1]["Fn::Join"][1] == [api_origin, "https://ops.example.com"]


def test_jwt_authorizer_takes_issuer_and_audiences_from_parameters(template, resources):
    jwt = resources["JwtAuthorizer"]["Properties"]
    assert jwt["AuthorizerType"] == "JWT"
    assert jwt["IdentitySource"] == ["$request.header.Authorization"]
    assert jwt["JwtConfiguration"]["Issuer"] == {"Ref": "JwtIssuer"}
    assert jwt["JwtConfiguration"]["Audience"] == {"Fn::Split": [",", {"Ref": "JwtAudience"}]}
    # And a jwt deployment without them is refused before anything is created
    rule = template["Rules"]["JwtNeedsIssuerAndAudience"]
    asserted = json.dumps(rule["Assertions"])
    assert '"JwtIssuer"' in asserted and '"JwtAudience"' in asserted


def test_feed_routes_reach_the_feed_function_and_the_others_the_api_function_in_payload_v2(resources):
    integrations = of_type(resources, "AWS::ApiGatewayV2::Integration")
    for key, props in routes(resources).items():
        (name,) = re.fullmatch(r"integrations/\$\{(\w+)\}", props["Target"]["Fn::Sub"]).groups()
        integration = integrations[name]["Properties"]
        function = "FeedFunction" if key.split(" ")[1].startswith("/feeds/") else "ApiFunction"
        assert integration["IntegrationUri"] == {"Fn::GetAtt": [function, "Arn"]}, key
        assert integration["PayloadFormatVersion"] == "2.0"


def test_stage_throttles_every_route_with_parameters(template, resources):
    (stage,) = of_type(resources, "AWS::ApiGatewayV2::Stage").values()
    settings = stage["Properties"]["DefaultRouteSettings"]
    rate = evaluate(settings["ThrottlingRateLimit"], template, {})
    burst = evaluate(settings["ThrottlingBurstLimit"], template, {})
    assert 0 < int(rate) <= int(burst) <= 5000  # below the account's default, which would be no limit at all
    assert "DestinationArn" in stage["Properties"]["AccessLogSettings"]


def test_cors_is_off_unless_origins_are_given(template, resources):
    cors = resources["HttpApi"]["Properties"]["CorsConfiguration"]
    assert evaluate(cors, template, {}) is None
    configured = evaluate(cors, template, {"CorsAllowedOrigins": ["https://ops.example.com"]})
    assert configured["AllowOrigins"] == ["https://ops.example.com"]
    assert "*" not in json.dumps(configured)


# --- Least privilege ---------------------------------------------------------------------------------------


def role_of(resources: dict[str, Any], function: str) -> dict[str, Any]:
    role = resources[function]["Properties"]["Role"]
    assert role == {"Fn::GetAtt": [f"{function}Role", "Arn"]}
    return resources[f"{function}Role"]["Properties"]


def statements(resources: dict[str, Any], function: str) -> list[dict[str, Any]]:
    return [s for p in role_of(resources, function)["Policies"] for s in p["PolicyDocument"]["Statement"]]


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def s3_patterns(statement: dict[str, Any]) -> list[str]:
    """The statement's S3 resources as ARN patterns, the bucket named BUCKET."""
    patterns = []
    for resource in as_list(statement["Resource"]):
        if resource == {"Fn::GetAtt": ["DataBucket", "Arn"]}:
            patterns.append(f"arn:aws:s3:::{BUCKET}")
        elif isinstance(resource, dict) and "Fn::Sub" in resource and ":s3:::" in resource["Fn::Sub"]:
            text = resource["Fn::Sub"].replace("${AWS::Partition}", "aws").replace("${DataBucket}", BUCKET)
            patterns.append(text)
    return patterns


def allows(resources: dict[str, Any], function: str, action: str, key: str) -> bool:
    """IAM's matching, where `*` crosses `/` as fnmatch's does."""
    arn = f"arn:aws:s3:::{BUCKET}/{key}"
    return any(
        s["Effect"] == "Allow"
        and action in as_list(s["Action"])
        and any(fnmatch.fnmatchcase(arn, pattern) for pattern in s3_patterns(s))
        for s in statements(resources, function)
    )


def test_functions_use_their_written_roles_so_sam_adds_no_broad_managed_policies(resources):
    for function in FUNCTIONS:
        props = resources[function]["Properties"]
        assert "Policies" not in props, function
        role = role_of(resources, function)
        assert "ManagedPolicyArns" not in role, function


def test_no_statement_names_every_resource_except_xray(resources):
    for function in FUNCTIONS:
        for statement in statements(resources, function):
            actions = as_list(statement["Action"])
            assert all("*" not in action for action in actions), (function, actions)
            if "*" in as_list(statement["Resource"]):
                assert all(action.startswith("xray:") for action in actions), (function, statement)


def test_s3_access_is_scoped_to_prefixes(resources):
    for function in FUNCTIONS:
        for statement in statements(resources, function):
            for pattern in s3_patterns(statement):
                if pattern == f"arn:aws:s3:::{BUCKET}":
                    # 404 for missing keys; deletions list every version of what they remove
                    assert set(as_list(statement["Action"])) <= {"s3:ListBucket", "s3:ListBucketVersions"}
                else:
                    prefix = pattern.split(f"{BUCKET}/", 1)[1]
                    assert re.match(r"[a-z-]+/", prefix), (function, pattern)  # never the whole bucket


# (function, action, key, allowed): every key the code uses (onair.keys), and some it must not reach.
ACCESS = [
    ("ApiFunction", "s3:PutObject", keys.upload_status(ID), True),
    ("ApiFunction", "s3:GetObject", keys.upload_status(ID), True),
    ("ApiFunction", "s3:PutObject", keys.incoming(ID), True),  # signs the presigned PUT
    ("ApiFunction", "s3:GetObject", keys.incoming(ID), True),  # source excerpts of rejected uploads
    ("ApiFunction", "s3:PutObject", keys.version_file(ID, 1, "source.xml"), True),
    ("ApiFunction", "s3:AbortMultipartUpload", keys.version_file(ID, 1, "schedule.json"), True),
    ("ApiFunction", "s3:PutObject", keys.schedule_record(ID), True),
    ("ApiFunction", "s3:DeleteObjectVersion", keys.schedule_record(ID), True),  # DELETE /schedules/{id}
    ("ApiFunction", "s3:PutObject", keys.feed_token("t"), True),
    ("ApiFunction", "s3:DeleteObject", keys.feed_token("t"), True),  # rotation
    ("ApiFunction", "s3:PutObject", keys.refresh_policy(ID), True),
    ("ApiFunction", "s3:PutObject", keys.run_index(ID, datetime(2026, 12, 1, tzinfo=UTC), ID), True),
    ("ApiFunction", "s3:PutObject", keys.run_status(ID), True),
    ("ApiFunction", "s3:PutObject", keys.run_idempotency(ID, "key"), True),
    ("ApiFunction", "s3:GetObject", keys.run_output(ID, "guide.xml"), True),
    ("ApiFunction", "s3:PutObject", keys.run_output(ID, "guide.xml"), False),
    ("ApiFunction", "s3:PutObject", keys.rejected(ID), False),
    ("ApiFunction", "s3:DeleteObject", keys.upload_status(ID), False),
    ("FeedFunction", "s3:GetObject", keys.feed_token("t"), True),
    ("FeedFunction", "s3:GetObject", keys.published(ID), True),
    ("FeedFunction", "s3:GetObject", keys.feed_file(ID, ID, "guide.xml"), True),
    ("FeedFunction", "s3:GetObject", keys.version_file(ID, 1, "source.xml"), False),
    ("FeedFunction", "s3:GetObject", keys.schedule_record(ID), False),
    ("FeedFunction", "s3:PutObject", keys.feed_file(ID, ID, "guide.xml"), False),
    ("FeedFunction", "s3:GetObject", keys.run_status(ID), False),
    ("FeedFunction", "s3:GetObject", keys.feed_live(ID, ID, "ch 1/é"), True),  # live timelines
    ("FeedFunction", "s3:GetObject", LIBRARY_SEGMENT, True),  # presigns live segments
    ("FeedFunction", "s3:PutObject", LIBRARY_SEGMENT, False),
    ("FeedFunction", "s3:GetObject", keys.run_live(ID, "ch"), False),
    ("FeedFunction", "s3:GetObject", keys.media_cache("s3://b/library/x.m3u8"), False),
    ("ApiFunction", "s3:GetObject", LIBRARY_SEGMENT, False),
    ("ImportFunction", "s3:GetObject", LIBRARY_SEGMENT, False),
    ("ImportFunction", "s3:PutObject", keys.upload_status(ID), True),
    ("ImportFunction", "s3:GetObject", keys.incoming(ID), True),
    ("ImportFunction", "s3:PutObject", keys.version_file(ID, 1, "schedule.json"), True),
    ("ImportFunction", "s3:AbortMultipartUpload", keys.version_file(ID, 1, "schedule.json"), True),
    ("ImportFunction", "s3:PutObject", keys.schedule_record(ID), True),
    ("ImportFunction", "s3:GetObject", keys.schedule_record(ID), True),
    ("ImportFunction", "s3:PutObject", keys.feed_token("t"), True),
    ("ImportFunction", "s3:PutObject", keys.rejected(ID), True),
    ("ImportFunction", "s3:PutObject", keys.incoming(ID), False),  # the API presigns; imports only read
    ("ImportFunction", "s3:PutObject", keys.run_status(ID), False),
    ("ImportFunction", "s3:GetObject", keys.run_output(ID, "guide.xml"), False),
    ("RunFunction", "s3:GetObject", keys.version_file(ID, 1, "schedule.json"), True),
    ("RunFunction", "s3:GetObject", keys.run_status(ID), True),
    ("RunFunction", "s3:PutObject", keys.run_status(ID), True),
    ("RunFunction", "s3:PutObject", keys.run_output(ID, "playout.json"), True),
    ("RunFunction", "s3:PutObject", keys.feed_file(ID, ID, "guide.xml"), True),
    ("RunFunction", "s3:PutObject", keys.published(ID), True),
    ("RunFunction", "s3:PutObject", keys.schedule_record(ID), True),
    ("RunFunction", "s3:GetObject", LIBRARY_SEGMENT, True),  # s3:// item playlists
    ("RunFunction", "s3:PutObject", LIBRARY_SEGMENT, False),
    ("RunFunction", "s3:GetObject", keys.media_cache("s3://b/library/x.m3u8"), True),
    ("RunFunction", "s3:PutObject", keys.media_cache("https://m.example/x.m3u8"), True),
    ("RunFunction", "s3:PutObject", keys.run_live(ID, "ch"), True),
    ("RunFunction", "s3:GetObject", keys.run_live(ID, "ch"), True),
    ("RunFunction", "s3:PutObject", keys.feed_live(ID, ID, "ch"), True),
    ("RunFunction", "s3:GetObject", keys.feed_live(ID, ID, "ch"), True),
    ("RunFunction", "s3:PutObject", keys.version_file(ID, 1, "schedule.json"), False),
    ("RunFunction", "s3:GetObject", keys.version_file(ID, 1, "source.xml"), False),
    ("RunFunction", "s3:GetObject", keys.incoming(ID), False),
    ("RunFunction", "s3:GetObject", keys.upload_status(ID), False),
    ("RunFunction", "s3:PutObject", keys.run_idempotency(ID, "key"), False),
    ("RunFunction", "s3:DeleteObject", keys.schedule_record(ID), False),
    ("RefreshFunction", "s3:GetObject", keys.refresh_policy(ID), True),
    ("RefreshFunction", "s3:PutObject", keys.run_idempotency(ID, "refresh:2026-12-01"), True),
    ("RefreshFunction", "s3:PutObject", keys.run_status(ID), True),
    ("RefreshFunction", "s3:PutObject", keys.refresh_policy(ID), False),
    ("RefreshFunction", "s3:GetObject", keys.version_file(ID, 1, "source.xml"), False),
]


@pytest.mark.parametrize(("function", "action", "key", "allowed"), ACCESS)
def test_each_function_reaches_exactly_the_keys_it_uses(resources, function, action, key, allowed):
    assert allows(resources, function, action, key) is allowed


def queue_access(resources: dict[str, Any], function: str) -> dict[str, set[str]]:
    access: dict[str, set[str]] = {}
    for statement in statements(resources, function):
        for resource in as_list(statement["Resource"]):
            if isinstance(resource, dict) and resource.get("Fn::GetAtt", [None, None])[1] == "Arn":
                queue = resource["Fn::GetAtt"][0]
                if resources[queue]["Type"] == "AWS::SQS::Queue":
                    access.setdefault(queue, set()).update(as_list(statement["Action"]))
    return access


def test_queue_access_is_what_each_function_does(resources):
    consume = {"sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"}
    stats = {"sqs:GetQueueAttributes"}
    assert queue_access(resources, "ApiFunction") == {
        "JobQueue": {"sqs:SendMessage", *stats},  # queues runs; queue-stats
        "ImportQueue": stats,
        "ImportDLQ": stats,
        "JobDLQ": stats,
    }
    assert queue_access(resources, "FeedFunction") == {}
    assert queue_access(resources, "ImportFunction") == {
        "ImportQueue": consume,  # consumes S3 notifications
        "ImportDLQ": {"sqs:SendMessage"},  # forwards rejected uploads
    }
    assert queue_access(resources, "RunFunction") == {"JobQueue": consume}
    assert queue_access(resources, "RefreshFunction") == {"JobQueue": {"sqs:SendMessage"}}


def test_logs_go_to_each_functions_own_group_with_retention(resources):
    for function in FUNCTIONS:
        group = resources[function]["Properties"]["LoggingConfig"]["LogGroup"]["Ref"]
        assert "RetentionInDays" in resources[group]["Properties"]
        (logs,) = [s for s in statements(resources, function) if "logs:PutLogEvents" in as_list(s["Action"])]
        assert logs["Resource"] == {"Fn::GetAtt": [group, "Arn"]}


def test_every_checkov_skip_is_justified(resources):
    skips = [
        (rid, skip)
        for rid, r in resources.items()
        for skip in r.get("Metadata", {}).get("checkov", {}).get("skip", [])
    ]
    assert skips
    for rid, skip in skips:
        assert re.fullmatch(r"CKV2?_AWS_\d+", skip["id"]), rid
        assert len(skip.get("comment", "")) >= 60, (rid, skip["id"])


# --- Observability -----------------------------------------------------------------------------------------


def alarms(resources: dict[str, Any]) -> list[dict[str, Any]]:
    return [r["Properties"] for r in of_type(resources, "AWS::CloudWatch::Alarm").values()]


def test_any_message_in_the_job_dead_letter_queue_raises_an_alarm(resources):
    (alarm,) = [
        a
        for a in alarms(resources)
        if a["Dimensions"] == [{"Name": "QueueName", "Value": {"Fn::GetAtt": ["JobDLQ", "QueueName"]}}]
    ]
    assert (alarm["Namespace"], alarm["MetricName"]) == ("AWS/SQS", "ApproximateNumberOfMessagesVisible")
    assert (alarm["ComparisonOperator"], alarm["Threshold"]) == ("GreaterThanThreshold", 0)
    assert alarm["AlarmActions"] == [{"Ref": "AlarmTopic"}]


def test_only_unexpected_import_dead_letters_raise_an_alarm_not_rejections(resources):
    # Rejected uploads are forwarded to ImportDLQ with their reason by design: its depth raises nothing
    assert not [
        a
        for a in alarms(resources)
        if a["Dimensions"] == [{"Name": "QueueName", "Value": {"Fn::GetAtt": ["ImportDLQ", "QueueName"]}}]
    ]
    # An upload that failed every delivery is counted by ImportFunction on its last one, and alarms
    (alarm,) = [a for a in alarms(resources) if a["MetricName"] == "UploadsDeadLettered"]
    assert (alarm["Namespace"], alarm["Dimensions"]) == (
        "OnAir",
        [{"Name": "service", "Value": "onair-import"}],
    )
    assert (alarm["ComparisonOperator"], alarm["Threshold"]) == ("GreaterThanThreshold", 0)
    assert alarm["AlarmActions"] == [{"Ref": "AlarmTopic"}]


@pytest.mark.parametrize("metric", ["Errors", "Throttles"])
def test_run_function_errors_and_throttles_raise_alarms(resources, metric):
    (alarm,) = [
        a
        for a in alarms(resources)
        if a["MetricName"] == metric and a["Dimensions"][0]["Value"] == {"Ref": "RunFunction"}
    ]
    assert (alarm["Namespace"], alarm["ComparisonOperator"], alarm["Threshold"]) == (
        "AWS/Lambda",
        "GreaterThanThreshold",
        0,
    )
    assert alarm["AlarmActions"] == [{"Ref": "AlarmTopic"}]


def test_alarm_email_is_optional(template, resources):
    subscription = resources["AlarmEmailSubscription"]
    assert not enabled(subscription, template, {})
    assert enabled(subscription, template, {"AlarmEmail": "ops@example.com"})


def test_dashboard_shows_queues_concurrency_errors_and_the_business_metrics(resources):
    (dashboard,) = of_type(resources, "AWS::CloudWatch::Dashboard").values()
    body = dashboard["Properties"]["DashboardBody"]["Fn::Sub"]
    # Given the body with every ${...} substituted (numbers stay numbers), it is valid JSON
    widgets = json.loads(re.sub(r"\$\{([^}]+)\}", lambda m: "4" if m[1] == "RunConcurrency" else "x", body))
    text = json.dumps(widgets)
    for metric in (
        "ApproximateNumberOfMessagesVisible",
        "ApproximateAgeOfOldestMessage",
        "ConcurrentExecutions",
        "Errors",
        "Throttles",
        "ImportsAccepted",
        "ImportsRejected",
        "RunsSucceeded",
        "RunsFailed",
        "RunDuration",
        "RuleBreaks",
    ):
        assert f'"{metric}' in text or f'\\"{metric}\\"' in text, metric


def test_tracing_and_metrics_namespace_are_global(template):
    function = template["Globals"]["Function"]
    assert function["Tracing"] == "Active"
    assert function["Environment"]["Variables"]["POWERTOOLS_METRICS_NAMESPACE"] == "OnAir"
    for statement in [s for f in FUNCTIONS for s in statements(template["Resources"], f)]:
        if "xray:PutTraceSegments" in as_list(statement["Action"]):
            break
    else:
        pytest.fail("no role may write traces")


# --- Deploy ------------------------------------------------------------------------------------------------


def test_samconfig_deploys_stack_onair_with_a_change_set_to_confirm():
    config = tomllib.loads((ROOT / "samconfig.toml").read_text(encoding="utf-8"))
    assert config["default"]["global"]["parameters"]["stack_name"] == "onair"
    deploy = config["default"]["deploy"]["parameters"]
    assert deploy["capabilities"] == "CAPABILITY_IAM"
    assert deploy["resolve_s3"] is True
    assert deploy["confirm_changeset"] is True
