"""template.yaml as a typed, frozen description of the app: the local stack's only source of names and limits."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = ROOT / "template.yaml"

# The pseudo parameters of the local "deployment".
STACK_NAME = "onair-local"
ACCOUNT_ID = "123456789012"
REGION = "us-east-1"
PSEUDO = {
    "AWS::StackName": STACK_NAME,
    "AWS::AccountId": ACCOUNT_ID,
    "AWS::Region": REGION,
    "AWS::Partition": "aws",
    "AWS::URLSuffix": "amazonaws.com",
}


NO_VALUE = object()  # AWS::NoValue: the key or list item that resolves to it is left out


class CfnLoader(yaml.SafeLoader):
    """SafeLoader that reads CloudFormation short tags (!Ref X -> {"Ref": "X"}, !GetAtt A.B -> {...})."""


def _construct(tag: str, node: yaml.Node, loader: CfnLoader) -> dict[str, Any]:
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    elif isinstance(node, yaml.MappingNode):
        value = loader.construct_mapping(node, deep=True)
    else:  # the three above are all the nodes a YAML document composes to
        raise yaml.constructor.ConstructorError(None, None, f"!{tag} on an unknown node", node.start_mark)
    if tag == "Ref":
        return {"Ref": value}
    if tag == "GetAtt" and isinstance(value, str):
        value = value.split(".", 1)
    return {f"Fn::{tag}": value}


def _short_form(tag: str) -> Callable[[CfnLoader, yaml.Node], dict[str, Any]]:
    return lambda loader, node: _construct(tag, node, loader)


def _condition(loader: CfnLoader, node: yaml.Node) -> dict[str, Any]:
    if not isinstance(node, yaml.ScalarNode):
        raise yaml.constructor.ConstructorError(
            None, None, "!Condition takes a condition's name", node.start_mark
        )
    return {"Condition": loader.construct_scalar(node)}


for _tag in ("Ref", "GetAtt", "Sub", "Join", "Select", "Split", "If", "Equals", "Not", "And", "Or"):
    CfnLoader.add_constructor(f"!{_tag}", _short_form(_tag))
for _tag in ("FindInMap", "ImportValue", "Base64", "Cidr", "GetAZs"):
    CfnLoader.add_constructor(f"!{_tag}", _short_form(_tag))
CfnLoader.add_constructor("!Condition", _condition)


@dataclass(frozen=True)
class Queue:
    logical_id: str
    name: str
    visibility_timeout: int | None
    message_retention_period: int | None
    dlq: str | None  # logical id of the redrive target
    max_receive_count: int | None

    @property
    def arn(self) -> str:
        return f"arn:aws:sqs:{REGION}:{ACCOUNT_ID}:{self.name}"


@dataclass(frozen=True)
class Function:
    logical_id: str
    code_uri: Path
    handler: str
    timeout: int
    memory_size: int
    environment: Mapping[str, Any]  # raw CloudFormation values, resolved by App.resolve
    reserved_concurrency: int | None


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    function: str

    @property
    def route_key(self) -> str:
        return f"{self.method} {self.path}"


@dataclass(frozen=True)
class SqsSource:
    function: str
    queue: str  # logical id
    batch_size: int
    maximum_concurrency: int | None
    function_response_types: tuple[str, ...]

    @property
    def report_batch_item_failures(self) -> bool:
        return "ReportBatchItemFailures" in self.function_response_types


@dataclass(frozen=True)
class ScheduleTick:
    """A ScheduleV2 (EventBridge Scheduler) event: the function is invoked every `seconds`."""

    function: str
    expression: str

    @property
    def seconds(self) -> int:
        """rate(N minute|minutes|hour|hours|day|days); cron() needs a calendar the local stack lacks."""
        found = re.fullmatch(r"rate\((\d+) (minute|hour|day)s?\)", self.expression.strip())
        if found is None:
            raise ValueError(
                f"{self.function}: only rate(...) schedules run locally, not {self.expression!r}"
            )
        return int(found[1]) * {"minute": 60, "hour": 3600, "day": 86400}[found[2]]


@dataclass(frozen=True)
class QueueNotification:
    queue: str  # logical id
    event: str
    prefix: str | None
    suffix: str | None


@dataclass(frozen=True)
class CorsRule:
    """A rule of the bucket's CorsConfiguration, resolved (CloudFormation's property names)."""

    origins: tuple[str, ...]
    methods: tuple[str, ...]
    headers: tuple[str, ...] = ()
    expose: tuple[str, ...] = ()
    max_age: int | None = None
    rule_id: str | None = None


@dataclass(frozen=True)
class App:
    path: Path
    parameters: Mapping[str, str]  # name -> default, as CloudFormation passes parameters: strings
    bucket_id: str
    bucket_name: str
    queues: Mapping[str, Queue]
    functions: Mapping[str, Function]
    routes: tuple[Route, ...]
    sqs_sources: tuple[SqsSource, ...]
    schedules: tuple[ScheduleTick, ...]
    notifications: tuple[QueueNotification, ...]
    layers: tuple[Path, ...]
    raw: Mapping[str, Any] = field(repr=False)
    bucket_cors: tuple[CorsRule, ...] = ()

    @property
    def api_origins(self) -> tuple[str, ...]:
        """The origins the template gives its HTTP APIs (https://{api}.execute-api.{region}.{suffix}) as
        they resolve locally: where a bucket CORS rule names the API itself, the local stack puts its own."""
        return tuple(
            self.resolve({"Fn::Sub": f"https://${{{rid}}}.execute-api.${{AWS::Region}}.${{AWS::URLSuffix}}"})
            for rid, r in self.raw.get("Resources", {}).items()
            if r["Type"] == "AWS::ApiGatewayV2::Api"
        )

    def queue_url(self, logical_id: str, endpoint: str | None = None) -> str:
        base = endpoint.rstrip("/") if endpoint else f"https://sqs.{REGION}.amazonaws.com"
        return f"{base}/{ACCOUNT_ID}/{self.queues[logical_id].name}"

    def resolve(self, value: Any, queue_urls: Mapping[str, str] | None = None) -> Any:
        """Turns !Ref / !GetAtt / !Sub into local values; queue URLs come from the provisioned queues.
        Conditions (!If, !Equals, !Not, !And, !Or) are evaluated for the parameters' defaults, lists are
        joined, split and indexed (!Join, !Split, !Select), and an !If branch of AWS::NoValue drops its
        key or list item, as CloudFormation does."""
        if isinstance(value, list):
            return [r for r in (self.resolve(v, queue_urls) for v in value) if r is not NO_VALUE]
        if not isinstance(value, dict):
            return value
        if set(value) == {"Ref"}:
            return NO_VALUE if value["Ref"] == "AWS::NoValue" else self._ref(value["Ref"], queue_urls)
        if set(value) == {"Condition"}:
            return self.condition(value["Condition"])
        if len(value) == 1 and next(iter(value)) in _FUNCTIONS:
            ((function, args),) = value.items()
            return _FUNCTIONS[function](self, args, queue_urls)
        if set(value) == {"Fn::GetAtt"}:
            logical_id, attribute = value["Fn::GetAtt"]
            return self._get_att(logical_id, attribute)
        if set(value) == {"Fn::Sub"}:
            text, variables = (
                (value["Fn::Sub"], {}) if isinstance(value["Fn::Sub"], str) else tuple(value["Fn::Sub"])
            )
            return self._sub(text, {k: self.resolve(v, queue_urls) for k, v in variables.items()}, queue_urls)
        resolved = {k: self.resolve(v, queue_urls) for k, v in value.items()}
        return {k: v for k, v in resolved.items() if v is not NO_VALUE}

    def condition(self, name: str) -> bool:
        return bool(self.resolve(self.raw["Conditions"][name]))

    def _ref(self, name: str, queue_urls: Mapping[str, str] | None) -> str:
        if name in PSEUDO:
            return PSEUDO[name]
        if name in self.parameters:
            spec = self.raw.get("Parameters", {}).get(name, {})
            if str(spec.get("Type", "")).startswith(("CommaDelimitedList", "List<")):
                return self.parameters[name].split(",")  # type: ignore[return-value]
            return self.parameters[name]
        if name == self.bucket_id:
            return self.bucket_name
        if name in self.queues:
            return (queue_urls or {}).get(name) or self.queue_url(name)
        if name in self.raw.get("Resources", {}):
            return name  # no local meaning (API id, layer): the logical id is a stable stand-in
        raise KeyError(f"!Ref {name}: not in {self.path}")

    def _get_att(self, logical_id: str, attribute: str) -> str:
        if logical_id in self.queues and attribute == "Arn":
            return self.queues[logical_id].arn
        if logical_id in self.queues and attribute == "QueueName":
            return self.queues[logical_id].name
        if logical_id == self.bucket_id and attribute == "Arn":
            return f"arn:aws:s3:::{self.bucket_name}"
        raise KeyError(f"!GetAtt {logical_id}.{attribute}: not supported locally")

    def _sub(self, text: str, variables: Mapping[str, Any], queue_urls: Mapping[str, str] | None) -> str:
        def replace(match: re.Match[str]) -> str:
            name = match.group(1)
            if name in variables:
                return str(variables[name])
            if "." in name and not name.startswith("AWS::"):
                return self._get_att(*name.split(".", 1))
            return str(self._ref(name, queue_urls))

        return re.sub(r"\$\{([^!}][^}]*)\}", replace, text)

    def sources_for(self, function_id: str) -> tuple[SqsSource, ...]:
        return tuple(s for s in self.sqs_sources if s.function == function_id)

    def pollers(self, source: SqsSource) -> int:
        """Concurrent invocations the local event source mapping allows: ScalingConfig first, then the
        function's reserved concurrency; Lambda's floor for MaximumConcurrency is 2."""
        reserved = self.functions[source.function].reserved_concurrency
        caps = [c for c in (source.maximum_concurrency, reserved) if c]
        return min(caps) if caps else 2


def _if(app: App, args: Any, queue_urls: Mapping[str, str] | None) -> Any:
    name, then, otherwise = args
    return app.resolve(then if app.condition(name) else otherwise, queue_urls)


def _select(app: App, args: Any, queue_urls: Mapping[str, str] | None) -> Any:
    index, items = (app.resolve(a, queue_urls) for a in args)
    return items[int(index)]


def _split(app: App, args: Any, queue_urls: Mapping[str, str] | None) -> Any:
    separator, text = args
    return str(app.resolve(text, queue_urls)).split(separator)


def _join(app: App, args: Any, queue_urls: Mapping[str, str] | None) -> Any:
    separator, items = args
    return separator.join(str(item) for item in app.resolve(items, queue_urls))


def _equals(app: App, args: Any, queue_urls: Mapping[str, str] | None) -> Any:
    left, right = app.resolve(args, queue_urls)
    return left == right


_FUNCTIONS: dict[str, Callable[[App, Any, Mapping[str, str] | None], Any]] = {
    "Fn::If": _if,
    "Fn::Select": _select,
    "Fn::Split": _split,
    "Fn::Join": _join,
    "Fn::Equals": _equals,
    "Fn::Not": lambda app, args, urls: not app.resolve(args[0], urls),
    "Fn::And": lambda app, args, urls: all(app.resolve(args, urls)),
    "Fn::Or": lambda app, args, urls: any(app.resolve(args, urls)),
}


def _int(value: Any) -> int | None:
    return None if value is None else int(value)


def _local_path(template: Path, relative: str) -> Path:
    """Relative to the template, as SAM does; a copied template (tests, experiments) falls back to the
    project's code."""
    beside = (template.parent / relative).resolve()
    return beside if beside.exists() else (ROOT / relative).resolve()


def _api_routes(path: Path, resources: Mapping[str, Any], functions: Mapping[str, Function]) -> list[Route]:
    """Routes written as AWS::ApiGatewayV2::Route resources: RouteKey, and the function behind the Target
    integration (`integrations/${Integration}` whose IntegrationUri is `!GetAtt Function.Arn`). Their
    AuthorizationType is ignored: the local stack has no authentication."""
    routes = []
    for rid, r in resources.items():
        if r["Type"] != "AWS::ApiGatewayV2::Route":
            continue
        props = r.get("Properties", {})
        target = props.get("Target")
        text = target.get("Fn::Sub") if isinstance(target, dict) else target
        match = re.fullmatch(r"integrations/\$\{(\w+)\}", text) if isinstance(text, str) else None
        integration = resources.get(match.group(1), {}) if match else {}
        uri = integration.get("Properties", {}).get("IntegrationUri")
        function = uri["Fn::GetAtt"][0] if isinstance(uri, dict) and "Fn::GetAtt" in uri else None
        if function is None or function not in functions:
            raise ValueError(f"{rid}: target {target!r} is not a Lambda integration of {path}")
        method, _, route_path = str(props["RouteKey"]).partition(" ")
        routes.append(Route(method.upper(), route_path, function))
    return routes


def load_template(path: Path | str = TEMPLATE) -> App:
    path = Path(path).resolve()
    raw = yaml.load(path.read_text(encoding="utf-8"), Loader=CfnLoader)
    resources: dict[str, Any] = raw.get("Resources", {})
    parameters = {
        name: str(spec["Default"]) for name, spec in raw.get("Parameters", {}).items() if "Default" in spec
    }
    buckets = [rid for rid, r in resources.items() if r["Type"] == "AWS::S3::Bucket"]
    if len(buckets) != 1:
        raise ValueError(f"{path}: expected exactly one AWS::S3::Bucket, found {buckets}")
    bucket_id = buckets[0]
    bucket_props = resources[bucket_id].get("Properties", {})

    # A first pass with an empty App resolves parameters and pseudo parameters (names, numbers).
    shell = App(path, parameters, bucket_id, "", {}, {}, (), (), (), (), (), raw)
    bucket_name = str(shell.resolve(bucket_props.get("BucketName", bucket_id.lower())))

    queues: dict[str, Queue] = {}
    for rid, r in resources.items():
        if r["Type"] != "AWS::SQS::Queue":
            continue
        props = r.get("Properties", {})
        redrive = props.get("RedrivePolicy") or {}
        target = redrive.get("deadLetterTargetArn")
        queues[rid] = Queue(
            logical_id=rid,
            name=str(shell.resolve(props.get("QueueName", rid))),
            visibility_timeout=_int(shell.resolve(props.get("VisibilityTimeout"))),
            message_retention_period=_int(shell.resolve(props.get("MessageRetentionPeriod"))),
            dlq=target["Fn::GetAtt"][0] if isinstance(target, dict) and "Fn::GetAtt" in target else None,
            max_receive_count=_int(shell.resolve(redrive.get("maxReceiveCount"))),
        )

    shell = App(path, parameters, bucket_id, bucket_name, queues, {}, (), (), (), (), (), raw)
    globals_fn: dict[str, Any] = raw.get("Globals", {}).get("Function", {})
    global_env = globals_fn.get("Environment", {}).get("Variables", {})
    functions: dict[str, Function] = {}
    routes: list[Route] = []
    sources: list[SqsSource] = []
    ticks: list[ScheduleTick] = []
    for rid, r in resources.items():
        if r["Type"] != "AWS::Serverless::Function":
            continue
        props = {**globals_fn, **r.get("Properties", {})}
        env = {**global_env, **r.get("Properties", {}).get("Environment", {}).get("Variables", {})}
        functions[rid] = Function(
            logical_id=rid,
            code_uri=_local_path(path, props["CodeUri"]),
            handler=props["Handler"],
            timeout=int(shell.resolve(props.get("Timeout", 3))),
            memory_size=int(shell.resolve(props.get("MemorySize", 128))),
            environment=env,
            reserved_concurrency=_int(shell.resolve(props.get("ReservedConcurrentExecutions"))),
        )
        for event in props.get("Events", {}).values():
            ep = event.get("Properties", {})
            if event["Type"] == "HttpApi":
                method = str(ep.get("Method", "ANY")).upper()
                routes.append(Route("ANY" if method == "*" else method, ep.get("Path", "/{proxy+}"), rid))
            elif event["Type"] == "ScheduleV2":
                ticks.append(ScheduleTick(rid, str(shell.resolve(ep["ScheduleExpression"]))))
            elif event["Type"] == "SQS":
                queue = ep["Queue"]
                queue_id = queue["Fn::GetAtt"][0] if isinstance(queue, dict) else None
                if queue_id not in queues:
                    raise ValueError(f"{rid}: SQS event queue {queue!r} is not a queue of {path}")
                scaling = ep.get("ScalingConfig", {})
                sources.append(
                    SqsSource(
                        function=rid,
                        queue=queue_id,
                        batch_size=int(shell.resolve(ep.get("BatchSize", 10))),
                        maximum_concurrency=_int(shell.resolve(scaling.get("MaximumConcurrency"))),
                        function_response_types=tuple(ep.get("FunctionResponseTypes", [])),
                    )
                )

    routes.extend(_api_routes(path, resources, functions))

    notifications: list[QueueNotification] = []
    for qc in bucket_props.get("NotificationConfiguration", {}).get("QueueConfigurations", []):
        rules = {
            rule["Name"].lower(): rule["Value"]
            for rule in qc.get("Filter", {}).get("S3Key", {}).get("Rules", [])
        }
        notifications.append(
            QueueNotification(
                qc["Queue"]["Fn::GetAtt"][0], qc["Event"], rules.get("prefix"), rules.get("suffix")
            )
        )

    cors = [
        CorsRule(
            origins=tuple(rule["AllowedOrigins"]),
            methods=tuple(rule["AllowedMethods"]),
            headers=tuple(rule.get("AllowedHeaders", ())),
            expose=tuple(rule.get("ExposedHeaders", ())),
            max_age=_int(rule.get("MaxAge")),
            rule_id=rule.get("Id"),
        )
        for rule in shell.resolve(bucket_props.get("CorsConfiguration", {})).get("CorsRules", [])
    ]

    layers: list[Path] = []
    for layer in globals_fn.get("Layers", []):
        layer_id = layer.get("Ref") if isinstance(layer, dict) else None
        if layer_id in resources and "ContentUri" in resources[layer_id].get("Properties", {}):
            layers.append(_local_path(path, resources[layer_id]["Properties"]["ContentUri"]))

    return App(
        path=path,
        parameters=parameters,
        bucket_id=bucket_id,
        bucket_name=bucket_name,
        queues=queues,
        functions=functions,
        routes=tuple(routes),
        sqs_sources=tuple(sources),
        schedules=tuple(ticks),
        notifications=tuple(notifications),
        layers=tuple(layers),
        raw=raw,
        bucket_cors=tuple(cors),
    )
