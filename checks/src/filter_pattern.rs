//! CloudWatch Logs JSON metric filter patterns (`{ $.userIdentity.type = "Root" && … }`), parsed
//! and evaluated against JSON log events, so that a check can ask what a filter *matches* instead
//! of comparing its text: quoted or unquoted values, any spacing, parentheses, `&&` and `||`,
//! `=`/`!=` with `*` wildcards, numeric comparisons, `IS NULL`, `NOT EXISTS`, `IS TRUE`/`IS FALSE`.
//! Patterns that are not JSON patterns (space-delimited terms, `[…]` column patterns) are refused.

use serde_json::Value;

/// A parsed JSON filter pattern.
#[derive(Debug, Clone, PartialEq)]
pub enum Pattern {
    And(Box<Pattern>, Box<Pattern>),
    Or(Box<Pattern>, Box<Pattern>),
    Test(Test),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Test {
    /// The selector's path: `$.userIdentity.type` → `["userIdentity", "type"]`.
    pub path: Vec<String>,
    pub op: Op,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Op {
    Eq(Literal),
    Ne(Literal),
    Num(Cmp, f64),
    IsNull,
    NotExists,
    IsBool(bool),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cmp {
    Lt,
    Le,
    Gt,
    Ge,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Literal {
    /// A string, possibly with `*` wildcards.
    Text(String),
    Number(f64),
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    LBrace,
    RBrace,
    LParen,
    RParen,
    And,
    Or,
    Op(String),
    Selector(Vec<String>),
    Quoted(String),
    Word(String),
}

fn lex(text: &str) -> Result<Vec<Tok>, String> {
    let chars: Vec<char> = text.chars().collect();
    let mut i = 0;
    let mut out = Vec::new();
    while i < chars.len() {
        let c = chars[i];
        match c {
            _ if c.is_whitespace() => i += 1,
            '{' => (out.push(Tok::LBrace), i += 1).1,
            '}' => (out.push(Tok::RBrace), i += 1).1,
            '(' => (out.push(Tok::LParen), i += 1).1,
            ')' => (out.push(Tok::RParen), i += 1).1,
            '&' | '|' => {
                if chars.get(i + 1) != Some(&c) {
                    return Err(format!("a lone '{c}' at {i}"));
                }
                out.push(if c == '&' { Tok::And } else { Tok::Or });
                i += 2;
            }
            '=' | '!' | '<' | '>' => {
                let two = chars.get(i + 1) == Some(&'=');
                let op: String = if two {
                    [c, '='].iter().collect()
                } else {
                    c.to_string()
                };
                if op == "!" {
                    return Err(format!("'!' without '=' at {i}"));
                }
                out.push(Tok::Op(op));
                i += if two { 2 } else { 1 };
            }
            '"' => {
                let mut s = String::new();
                i += 1;
                loop {
                    match chars.get(i) {
                        None => return Err("an unterminated string".into()),
                        Some('\\') => {
                            if let Some(&n) = chars.get(i + 1) {
                                s.push(n);
                            }
                            i += 2;
                        }
                        Some('"') => {
                            i += 1;
                            break;
                        }
                        Some(&ch) => {
                            s.push(ch);
                            i += 1;
                        }
                    }
                }
                out.push(Tok::Quoted(s));
            }
            '$' => {
                let start = i;
                while i < chars.len()
                    && !chars[i].is_whitespace()
                    && !"=!<>(){}&|".contains(chars[i])
                {
                    i += 1;
                }
                let sel: String = chars[start..i].iter().collect();
                let rest = sel
                    .strip_prefix("$.")
                    .ok_or_else(|| format!("selector {sel} does not start with $."))?;
                let path = rest
                    .split(['.', '['])
                    .map(|p| p.trim_end_matches(']').to_owned())
                    .filter(|p| !p.is_empty())
                    .collect();
                out.push(Tok::Selector(path));
            }
            _ => {
                let start = i;
                while i < chars.len()
                    && !chars[i].is_whitespace()
                    && !"=!<>(){}&|\"".contains(chars[i])
                {
                    i += 1;
                }
                out.push(Tok::Word(chars[start..i].iter().collect()));
            }
        }
    }
    Ok(out)
}

struct Parser {
    toks: Vec<Tok>,
    pos: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos)
    }
    fn next(&mut self) -> Option<Tok> {
        let t = self.toks.get(self.pos).cloned();
        self.pos += 1;
        t
    }
    fn or(&mut self) -> Result<Pattern, String> {
        let mut left = self.and()?;
        while self.peek() == Some(&Tok::Or) {
            self.pos += 1;
            left = Pattern::Or(Box::new(left), Box::new(self.and()?));
        }
        Ok(left)
    }
    fn and(&mut self) -> Result<Pattern, String> {
        let mut left = self.atom()?;
        while self.peek() == Some(&Tok::And) {
            self.pos += 1;
            left = Pattern::And(Box::new(left), Box::new(self.atom()?));
        }
        Ok(left)
    }
    fn atom(&mut self) -> Result<Pattern, String> {
        match self.next() {
            Some(Tok::LParen) => {
                let p = self.or()?;
                match self.next() {
                    Some(Tok::RParen) => Ok(p),
                    _ => Err("a '(' without its ')'".into()),
                }
            }
            Some(Tok::Selector(path)) => Ok(Pattern::Test(Test {
                op: self.op()?,
                path,
            })),
            other => Err(format!("expected a selector or '(', found {other:?}")),
        }
    }
    fn op(&mut self) -> Result<Op, String> {
        match self.next() {
            Some(Tok::Op(op)) => {
                let lit = match self.next() {
                    Some(Tok::Quoted(s)) => Literal::Text(s),
                    Some(Tok::Word(w)) => match w.parse::<f64>() {
                        Ok(n) => Literal::Number(n),
                        Err(_) => Literal::Text(w),
                    },
                    other => return Err(format!("expected a value after {op}, found {other:?}")),
                };
                let num = |l: &Literal| match l {
                    Literal::Number(n) => Ok(*n),
                    Literal::Text(t) => Err(format!("{op} needs a number, found {t}")),
                };
                Ok(match op.as_str() {
                    "=" => Op::Eq(lit),
                    "!=" => Op::Ne(lit),
                    "<" => Op::Num(Cmp::Lt, num(&lit)?),
                    "<=" => Op::Num(Cmp::Le, num(&lit)?),
                    ">" => Op::Num(Cmp::Gt, num(&lit)?),
                    ">=" => Op::Num(Cmp::Ge, num(&lit)?),
                    other => return Err(format!("unknown operator {other}")),
                })
            }
            Some(Tok::Word(w)) if w.eq_ignore_ascii_case("IS") => match self.next() {
                Some(Tok::Word(v)) if v.eq_ignore_ascii_case("NULL") => Ok(Op::IsNull),
                Some(Tok::Word(v)) if v.eq_ignore_ascii_case("TRUE") => Ok(Op::IsBool(true)),
                Some(Tok::Word(v)) if v.eq_ignore_ascii_case("FALSE") => Ok(Op::IsBool(false)),
                other => Err(format!(
                    "expected NULL, TRUE or FALSE after IS, found {other:?}"
                )),
            },
            Some(Tok::Word(w)) if w.eq_ignore_ascii_case("NOT") => match self.next() {
                Some(Tok::Word(v)) if v.eq_ignore_ascii_case("EXISTS") => Ok(Op::NotExists),
                other => Err(format!("expected EXISTS after NOT, found {other:?}")),
            },
            other => Err(format!("expected an operator, found {other:?}")),
        }
    }
}

impl Pattern {
    /// Parses a JSON metric filter pattern; `Err` says why it is not one.
    pub fn parse(text: &str) -> Result<Pattern, String> {
        let toks = lex(text)?;
        if toks.first() != Some(&Tok::LBrace) || toks.last() != Some(&Tok::RBrace) {
            return Err("not a JSON filter pattern ({ … })".into());
        }
        let mut p = Parser {
            toks: toks[1..toks.len() - 1].to_vec(),
            pos: 0,
        };
        let pattern = p.or()?;
        if p.pos != p.toks.len() {
            return Err(format!("unexpected {:?}", p.toks[p.pos]));
        }
        Ok(pattern)
    }

    /// Whether the pattern matches a JSON log event.
    pub fn matches(&self, event: &Value) -> bool {
        match self {
            Pattern::And(a, b) => a.matches(event) && b.matches(event),
            Pattern::Or(a, b) => a.matches(event) || b.matches(event),
            Pattern::Test(t) => t.matches(event),
        }
    }
}

fn text_match(pattern: &str, value: &str) -> bool {
    crate::policy::actions::glob(pattern.as_bytes(), value.as_bytes())
}

impl Test {
    fn matches(&self, event: &Value) -> bool {
        let mut v = Some(event);
        for p in &self.path {
            v = v.and_then(|x| match p.parse::<usize>() {
                Ok(i) if x.is_array() => x.get(i),
                _ => x.get(p),
            });
        }
        let eq = |lit: &Literal, v: Option<&Value>| match (lit, v) {
            (Literal::Text(t), Some(Value::String(s))) => text_match(t, s),
            (Literal::Text(t), Some(Value::Bool(b))) => t == &b.to_string(),
            (Literal::Number(n), Some(Value::Number(x))) => x.as_f64() == Some(*n),
            (Literal::Number(n), Some(Value::String(s))) => s.parse::<f64>().ok() == Some(*n),
            _ => false,
        };
        match &self.op {
            Op::Eq(lit) => eq(lit, v),
            // CloudWatch: `!=` is true only for a present field with another value.
            Op::Ne(lit) => v.is_some_and(|x| !x.is_null()) && !eq(lit, v),
            Op::Num(cmp, n) => v.and_then(Value::as_f64).is_some_and(|x| match cmp {
                Cmp::Lt => x < *n,
                Cmp::Le => x <= *n,
                Cmp::Gt => x > *n,
                Cmp::Ge => x >= *n,
            }),
            Op::IsNull => v.is_some_and(Value::is_null),
            Op::NotExists => v.is_none(),
            Op::IsBool(b) => v.and_then(Value::as_bool) == Some(*b),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// The CIS filter, in the spellings seen in real accounts, parses to the same meaning.
    #[test]
    fn cis_root_filter_in_any_spelling() {
        let root = json!({"userIdentity":{"type":"Root"},"eventType":"AwsApiCall"});
        let service = json!({"userIdentity":{"type":"Root","invokedBy":"s3.amazonaws.com"},"eventType":"AwsApiCall"});
        let user = json!({"userIdentity":{"type":"IAMUser"},"eventType":"AwsApiCall"});
        for text in [
            r#"{ $.userIdentity.type = "Root" && $.userIdentity.invokedBy NOT EXISTS && $.eventType != "AwsServiceEvent" }"#,
            r#"{$.userIdentity.type=Root&&$.userIdentity.invokedBy NOT EXISTS&&$.eventType!=AwsServiceEvent}"#,
            "{ ($.userIdentity.type = \"Root\") && ($.userIdentity.invokedBy not exists) }",
        ] {
            let p = Pattern::parse(text).unwrap_or_else(|e| panic!("{text}: {e}"));
            assert!(p.matches(&root), "{text}");
            assert!(!p.matches(&service), "{text}");
            assert!(!p.matches(&user), "{text}");
        }
    }

    #[test]
    fn operators_and_wildcards() {
        let e = json!({"eventName":"DeleteTrail","n":5,"ok":true,"x":null,"a":[{"b":"c"}]});
        let m = |t: &str| Pattern::parse(t).unwrap().matches(&e);
        assert!(m(r#"{ $.eventName = "Delete*" }"#));
        assert!(!m(r#"{ $.eventName = "Stop*" }"#));
        assert!(m("{ $.n >= 5 && $.n < 6 }"));
        assert!(m("{ $.ok IS TRUE }"));
        assert!(m("{ $.x IS NULL }"));
        assert!(m("{ $.missing NOT EXISTS }"));
        assert!(m("{ $.a[0].b = c }"));
        assert!(m(
            r#"{ $.eventName = "StopLogging" || $.eventName = "DeleteTrail" }"#
        ));
        assert!(!m(r#"{ $.missing != "x" }"#));
    }

    #[test]
    fn malformed_patterns_are_refused() {
        for t in [
            "Root",
            "[ip, user]",
            "{ $.a = }",
            "{ $.a = \"x }",
            "{ ($.a = 1 }",
            "{ $.a & $.b }",
        ] {
            assert!(Pattern::parse(t).is_err(), "{t}");
        }
    }
}
