//! The kinds of partition key: every key builder, IAM policy and stream filter names one.

/// The first part of every partition key: what kind of item a key holds. Key builders, IAM
/// policies (`dynamodb:LeadingKeys`) and the stream consumers' filters all name these.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Prefix {
    Key,
    Net,
    User,
    Mem,
    Down,
    Cnt,
    Fence,
    Job,
    JobPend,
    JobF,
    Agg,
    Code,
    CodeName,
    CodeShard,
    DefCode,
    NetCodes,
    CodeRef,
    Deso,
    Jumio,
    Credit,
    Ledger,
    StreamFail,
    Repair,
    Evt,
    Rwd,
    URwd,
    Bal,
    RCnt,
    PRwd,
    Pay,
    PayLine,
    WhSec,
    WhMsg,
    Board,
    RScore,
    Idem,
}

impl Prefix {
    pub const ALL: [Prefix; 36] = [
        Prefix::Key,
        Prefix::Net,
        Prefix::User,
        Prefix::Mem,
        Prefix::Down,
        Prefix::Cnt,
        Prefix::Fence,
        Prefix::Job,
        Prefix::JobPend,
        Prefix::JobF,
        Prefix::Agg,
        Prefix::Code,
        Prefix::CodeName,
        Prefix::CodeShard,
        Prefix::DefCode,
        Prefix::NetCodes,
        Prefix::CodeRef,
        Prefix::Deso,
        Prefix::Jumio,
        Prefix::Credit,
        Prefix::Ledger,
        Prefix::StreamFail,
        Prefix::Repair,
        Prefix::Evt,
        Prefix::Rwd,
        Prefix::URwd,
        Prefix::Bal,
        Prefix::RCnt,
        Prefix::PRwd,
        Prefix::Pay,
        Prefix::PayLine,
        Prefix::WhSec,
        Prefix::WhMsg,
        Prefix::Board,
        Prefix::RScore,
        Prefix::Idem,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            Prefix::Key => "KEY#",
            Prefix::Net => "NET#",
            Prefix::User => "USER#",
            Prefix::Mem => "MEM#",
            Prefix::Down => "DOWN#",
            Prefix::Cnt => "CNT#",
            Prefix::Fence => "FENCE#",
            Prefix::Job => "JOB#",
            Prefix::JobPend => "JOBPEND#",
            Prefix::JobF => "JOBF#",
            Prefix::Agg => "AGG#",
            Prefix::Code => "CODE#",
            Prefix::CodeName => "CNAME#",
            Prefix::CodeShard => "CODESHARD#",
            Prefix::DefCode => "DEFCODE#",
            Prefix::NetCodes => "NETCODES#",
            Prefix::CodeRef => "CODEREF#",
            Prefix::Deso => "DESO#",
            Prefix::Jumio => "JUMIO#",
            Prefix::Credit => "CREDIT#",
            Prefix::Ledger => "LEDGER#",
            Prefix::StreamFail => "STREAMFAIL#",
            Prefix::Repair => "REPAIR#",
            Prefix::Evt => "EVT#",
            Prefix::Rwd => "RWD#",
            Prefix::URwd => "URWD#",
            Prefix::Bal => "BAL#",
            Prefix::RCnt => "RCNT#",
            Prefix::PRwd => "PRWD#",
            Prefix::Pay => "PAY#",
            Prefix::PayLine => "PAYLINE#",
            Prefix::WhSec => "WHSEC#",
            Prefix::WhMsg => "WHMSG#",
            Prefix::Board => "BOARD#",
            Prefix::RScore => "RSCORE#",
            Prefix::Idem => "IDEM#",
        }
    }

    /// The prefix of a partition key; None for a key of no known kind.
    pub fn of(pk: &str) -> Option<Prefix> {
        let head = pk.split_inclusive('#').next()?;
        Prefix::ALL.into_iter().find(|p| p.as_str() == head)
    }

    /// The part of `pk` after this prefix.
    pub fn strip(self, pk: &str) -> Option<&str> {
        pk.strip_prefix(self.as_str())
    }
}

impl std::fmt::Display for Prefix {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The partition keys of the indexes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum IndexPrefix {
    /// GSI1: a user's codes, `UCODES#<net>#<user>`.
    UserCodes,
    /// GSI1: the running move jobs.
    RunningJobs,
    /// GSI2: memberships whose placement changed, by hour.
    Changes,
    /// GSI1: a program's rewards in no payout and not voided, by when they become approved.
    Unpaid,
    /// GSI1: webhook messages due for an attempt, by when.
    Due,
}

impl IndexPrefix {
    pub const ALL: [IndexPrefix; 5] = [
        IndexPrefix::UserCodes,
        IndexPrefix::RunningJobs,
        IndexPrefix::Changes,
        IndexPrefix::Unpaid,
        IndexPrefix::Due,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            IndexPrefix::UserCodes => "UCODES#",
            IndexPrefix::RunningJobs => "JOBS#",
            IndexPrefix::Changes => "CHG#",
            IndexPrefix::Unpaid => "UNPAID#",
            IndexPrefix::Due => "WHDUE#",
        }
    }

    /// The index whose partitions these are.
    pub const fn index(self) -> &'static str {
        match self {
            IndexPrefix::UserCodes
            | IndexPrefix::RunningJobs
            | IndexPrefix::Unpaid
            | IndexPrefix::Due => "GSI1",
            IndexPrefix::Changes => "GSI2",
        }
    }

    pub fn of(pk: &str) -> Option<IndexPrefix> {
        IndexPrefix::ALL
            .into_iter()
            .find(|p| pk.starts_with(p.as_str()))
    }
}

impl std::fmt::Display for IndexPrefix {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}
