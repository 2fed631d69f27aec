//! Everyday names: services as people call them, the kinds of resource that imply a
//! service, what a kind of resource holds, and the few tasks that take several actions
//! whose names a request cannot spell (pushing an image to ECR).

/// Service names and phrases → prefix (beyond the prefixes themselves). Phrases are
/// written with single spaces; the text is matched word by word.
pub const SERVICES: &[(&str, &str)] = &[
    ("cloudwatch metrics", "cloudwatch"),
    ("cloudwatch logs", "logs"),
    ("cloudwatch log", "logs"),
    ("log insights", "logs"),
    ("logs insights", "logs"),
    ("cost explorer", "ce"),
    ("billing costs", "ce"),
    ("container registry", "ecr"),
    ("container images", "ecr"),
    ("container image", "ecr"),
    ("parameter store", "ssm"),
    ("session manager", "ssm"),
    ("systems manager", "ssm"),
    ("secrets manager", "secretsmanager"),
    ("step functions", "states"),
    ("step function", "states"),
    ("auto scaling", "autoscaling"),
    ("autoscaling", "autoscaling"),
    ("event bridge", "events"),
    ("eventbridge", "events"),
    ("dynamo", "dynamodb"),
    ("ddb", "dynamodb"),
    ("ebs", "ec2"),
    ("aurora", "rds"),
    ("cognito", "cognito-idp"),
    ("elb", "elasticloadbalancing"),
    ("efs", "elasticfilesystem"),
    ("emr", "elasticmapreduce"),
    ("redis", "elasticache"),
    ("memcached", "elasticache"),
    ("cloudtrail", "cloudtrail"),
    ("ses", "ses"),
    ("codepipeline", "codepipeline"),
];

/// Service prefixes that are also ordinary English words; they count only as `--service`.
pub const PREFIX_WORDS: &[&str] = &[
    "account",
    "activate",
    "artifact",
    "billing",
    "budgets",
    "cases",
    "config",
    "connect",
    "detective",
    "discovery",
    "events",
    "geo",
    "health",
    "invoicing",
    "iq",
    "one",
    "payments",
    "pipes",
    "pricing",
    "profile",
    "q",
    "ram",
    "scheduler",
    "schemas",
    "signer",
    "signin",
    "support",
    "tag",
    "tax",
    "transfer",
    "transform",
    "translate",
    "sustainability",
    "notifications",
    "shield",
    "personalize",
    "forecast",
    "batch",
    "backup",
    "chatbot",
    "ts",
    "mq",
    "pi",
    "ce",
    "es",
    "sms",
    "rum",
    "uxc",
    "wam",
    "cur",
    "ds",
    "fis",
    "fms",
    "swf",
    "identity",
    "states",
];

/// A kind of resource people name: the noun (singular, phrases joined by spaces), the
/// service and catalog resource type, and whether it is the default for the noun when no
/// other service in play has it.
pub struct Noun {
    pub noun: &'static str,
    pub service: &'static str,
    pub rtype: &'static str,
    pub default: bool,
}

const fn n(noun: &'static str, service: &'static str, rtype: &'static str, default: bool) -> Noun {
    Noun {
        noun,
        service,
        rtype,
        default,
    }
}

pub const NOUNS: &[Noun] = &[
    n("bucket", "s3", "bucket", true),
    n("object", "s3", "object", true),
    n("file", "s3", "object", true),
    n("instance", "ec2", "instance", true),
    n("instance", "rds", "db", false),
    n("server", "ec2", "instance", true),
    n("vm", "ec2", "instance", true),
    n("ec2 instance", "ec2", "instance", true),
    n("volume", "ec2", "volume", true),
    n("ebs volume", "ec2", "volume", true),
    n("snapshot", "ec2", "snapshot", true),
    n("snapshot", "rds", "snapshot", false),
    n("security group", "ec2", "security-group", true),
    n("vpc", "ec2", "vpc", true),
    n("subnet", "ec2", "subnet", true),
    n("ami", "ec2", "image", true),
    n("database", "rds", "db", true),
    n("db", "rds", "db", true),
    n("rds instance", "rds", "db", true),
    n("db instance", "rds", "db", true),
    n("cluster", "ecs", "cluster", false),
    n("cluster", "eks", "cluster", false),
    n("cluster", "rds", "cluster", false),
    n("cluster", "elasticache", "cluster", false),
    n("aurora cluster", "rds", "cluster", true),
    n("table", "dynamodb", "table", true),
    n("table", "glue", "table", false),
    n("index", "dynamodb", "index", false),
    n("log group", "logs", "log-group", true),
    n("log stream", "logs", "log-stream", true),
    n("function", "lambda", "function", true),
    n("lambda", "lambda", "function", true),
    n("lambda function", "lambda", "function", true),
    n("secret", "secretsmanager", "Secret", true),
    n("queue", "sqs", "queue", true),
    n("topic", "sns", "topic", true),
    n("parameter", "ssm", "parameter", true),
    n("kms key", "kms", "key", true),
    n("key", "kms", "key", false),
    n("repository", "ecr", "repository", true),
    n("repo", "ecr", "repository", true),
    n("repository", "codecommit", "repository", false),
    n("stack", "cloudformation", "stack", true),
    n("alarm", "cloudwatch", "alarm", true),
    n("dashboard", "cloudwatch", "dashboard", true),
    n("stream", "kinesis", "stream", true),
    n("stream", "dynamodb", "stream", false),
    n("delivery stream", "firehose", "deliverystream", true),
    n("role", "iam", "role", false),
    n("role", "sts", "role", false),
    n("user", "iam", "user", false),
    n("state machine", "states", "statemachine", true),
    n("iam role", "iam", "role", true),
    n("iam user", "iam", "user", true),
    n("execution", "states", "execution", false),
    n("trail", "cloudtrail", "trail", true),
    n("event bus", "events", "event-bus", true),
    n("rule", "events", "rule-on-default-event-bus", false),
    n(
        "eventbridge rule",
        "events",
        "rule-on-default-event-bus",
        true,
    ),
    n("service", "ecs", "service", false),
    n("ecs service", "ecs", "service", true),
    n("task", "ecs", "task", false),
    n("project", "codebuild", "project", false),
    n("codebuild project", "codebuild", "project", true),
    n("pipeline", "codepipeline", "pipeline", true),
    n("job", "glue", "job", false),
    n("glue job", "glue", "job", true),
    n("workgroup", "athena", "workgroup", true),
    n("hosted zone", "route53", "hostedzone", true),
    n("node group", "eks", "nodegroup", false),
    n("identity", "ses", "identity", false),
    n(
        "auto scaling group",
        "autoscaling",
        "autoScalingGroup",
        true,
    ),
    n("autoscaling group", "autoscaling", "autoScalingGroup", true),
    n("asg", "autoscaling", "autoScalingGroup", true),
];

/// What a kind of resource holds: "read table T" reads items, "write to bucket B" writes
/// objects. (service, resource type) → object words of the actions on the contents.
pub const CONTENTS: &[(&str, &str, &[&str])] = &[
    ("s3", "bucket", &["object"]),
    ("logs", "log-group", &["log", "event", "stream"]),
    ("logs", "log-stream", &["log", "event"]),
    ("dynamodb", "table", &["item"]),
    ("sqs", "queue", &["message"]),
    ("sns", "topic", &["message"]),
    ("kinesis", "stream", &["record"]),
    ("secretsmanager", "Secret", &["secret", "value"]),
    ("ecr", "repository", &["image"]),
    ("states", "statemachine", &["execution"]),
    ("codebuild", "project", &["build"]),
    ("codepipeline", "pipeline", &["pipeline", "execution"]),
    ("glue", "job", &["job", "run"]),
    ("athena", "workgroup", &["query", "execution"]),
    ("route53", "hostedzone", &["record"]),
    ("events", "event-bus", &["event"]),
];

pub fn contents(service: &str, rtype: &str) -> &'static [&'static str] {
    CONTENTS
        .iter()
        .find(|(s, t, _)| *s == service && *t == rtype)
        .map(|(_, _, c)| *c)
        .unwrap_or(&[])
}

/// Extra object words of an action whose name hides what it does (`s3:ListBucket`
/// lists the objects in the bucket: the API is ListObjects).
pub const ALIASES: &[(&str, &str, &[&str])] = &[
    ("s3", "ListBucket", &["object"]),
    ("s3", "ListBucketVersions", &["object", "version"]),
];

pub fn alias_words(service: &str, action: &str) -> &'static [&'static str] {
    ALIASES
        .iter()
        .find(|(s, a, _)| *s == service && *a == action)
        .map(|(_, _, w)| *w)
        .unwrap_or(&[])
}

/// Tasks that take several actions: (service, verb word, object word, actions).
/// The verb word is the one the user wrote ("push", "pull", "consume").
pub const TASKS: &[(&str, &str, &str, &[&str])] = &[
    (
        "ecr",
        "push",
        "image",
        &[
            "BatchCheckLayerAvailability",
            "CompleteLayerUpload",
            "InitiateLayerUpload",
            "PutImage",
            "UploadLayerPart",
            "GetAuthorizationToken",
        ],
    ),
    (
        "ecr",
        "pull",
        "image",
        &[
            "BatchGetImage",
            "GetDownloadUrlForLayer",
            "GetAuthorizationToken",
        ],
    ),
    (
        "sqs",
        "consume",
        "message",
        &["ReceiveMessage", "DeleteMessage"],
    ),
    (
        "sqs",
        "consumes",
        "message",
        &["ReceiveMessage", "DeleteMessage"],
    ),
    (
        "sqs",
        "consuming",
        "message",
        &["ReceiveMessage", "DeleteMessage"],
    ),
    (
        "kinesis",
        "read",
        "record",
        &["GetRecords", "GetShardIterator", "ListShards"],
    ),
    (
        "kinesis",
        "consume",
        "record",
        &["GetRecords", "GetShardIterator", "ListShards"],
    ),
    ("logs", "run", "query", &["StartQuery", "GetQueryResults"]),
    (
        "athena",
        "run",
        "query",
        &[
            "StartQueryExecution",
            "GetQueryExecution",
            "GetQueryResults",
        ],
    ),
];

/// Words that ask for broad access; refused.
pub const BROAD: &[&str] = &[
    "fullaccess",
    "admin",
    "administrator",
    "everything",
    "superuser",
    "root",
    "*",
];

/// Filler that is neither a name nor worth reporting as ignored.
pub const STOPWORDS: &[&str] = &[
    "a", "an", "the", "in", "on", "of", "for", "to", "from", "and", "or", "with", "my", "our",
    "all", "any", "named", "called", "its", "their", "this", "that", "these", "those", "at",
    "into", "by", "only", "just", "me", "i", "we", "need", "needs", "want", "wants", "access",
    "please", "can", "be", "able", "is", "are", "it", "them", "under", "inside", "within",
    "account", "region", "some", "every", "each", "existing", "which", "prefix", "path", "has",
    "have", "had", "let", "lets", "us", "you", "using", "use", "via", "then", "again", "what's",
    "whats", "what", "there", "exist", "exists", "aws", "amazon", "so", "also", "new", "out", "up",
    "too", "as", "should", "must", "will", "would", "could", "do",
];

/// Words people use for a kind beyond its type name (an RDS `db` is an "instance").
pub const KIND_WORDS: &[(&str, &str, &[&str])] = &[
    ("rds", "db", &["db", "instance", "database"]),
    ("rds", "cluster", &["db", "cluster"]),
    ("rds", "snapshot", &["db", "snapshot"]),
    ("elasticache", "cluster", &["cache", "cluster"]),
];

pub fn kind_words(service: &str, rtype: &str) -> &'static [&'static str] {
    KIND_WORDS
        .iter()
        .find(|(s, t, _)| *s == service && *t == rtype)
        .map(|(_, _, w)| *w)
        .unwrap_or(&[])
}
