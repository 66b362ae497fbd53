//! CloudFormation's intrinsic functions as the local stack needs them (`!Ref`, `!GetAtt`,
//! `!Sub`, `!If`, `!Equals`), and the values they resolve to in one stack.

use std::collections::{BTreeMap, HashMap};

use serde_yaml::Value;

use crate::template::Resource;

/// A CloudFormation intrinsic function.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Intrinsic {
    Ref(String),
    GetAtt(String, String),
    Sub(String),
    /// `!If [condition, then, else]`.
    If(String, Value, Value),
    /// `!Equals [a, b]` (in `Conditions:`).
    Equals(Value, Value),
}

fn pair(v: &Value) -> Option<(Value, Value)> {
    match v.as_sequence()?.as_slice() {
        [a, b] => Some((a.clone(), b.clone())),
        _ => None,
    }
}

fn if_of(v: &Value) -> Option<Intrinsic> {
    match v.as_sequence()?.as_slice() {
        [c, a, b] => Some(Intrinsic::If(c.as_str()?.to_string(), a.clone(), b.clone())),
        _ => None,
    }
}

pub fn intrinsic(v: &Value) -> Option<Intrinsic> {
    match v {
        Value::Tagged(t) => {
            let tag = t.tag.to_string();
            match tag.trim_start_matches('!') {
                "If" => return if_of(&t.value),
                "Equals" => return pair(&t.value).map(|(a, b)| Intrinsic::Equals(a, b)),
                _ => {}
            }
            let inner = t.value.as_str()?;
            match tag.trim_start_matches('!') {
                "Ref" => Some(Intrinsic::Ref(inner.to_string())),
                "GetAtt" => inner.split_once('.').map(|(a, b)| Intrinsic::GetAtt(a.into(), b.into())),
                "Sub" => Some(Intrinsic::Sub(inner.to_string())),
                _ => None,
            }
        }
        Value::Mapping(m) if m.len() == 1 => {
            let (k, v) = m.iter().next()?;
            match k.as_str()? {
                "Ref" => Some(Intrinsic::Ref(v.as_str()?.to_string())),
                "Fn::GetAtt" => match v {
                    Value::Sequence(s) if s.len() == 2 => Some(Intrinsic::GetAtt(s[0].as_str()?.into(), s[1].as_str()?.into())),
                    Value::String(s) => s.split_once('.').map(|(a, b)| Intrinsic::GetAtt(a.into(), b.into())),
                    _ => None,
                },
                "Fn::Sub" => Some(Intrinsic::Sub(v.as_str()?.to_string())),
                "Fn::If" => if_of(v),
                "Fn::Equals" => pair(v).map(|(a, b)| Intrinsic::Equals(a, b)),
                _ => None,
            }
        }
        _ => None,
    }
}

/// The logical id a value refers to (`!Ref X` or `!GetAtt X.Y`).
pub fn target(v: &Value) -> Option<String> {
    match intrinsic(v)? {
        Intrinsic::Ref(x) | Intrinsic::GetAtt(x, _) => Some(x),
        Intrinsic::Sub(_) | Intrinsic::If(..) | Intrinsic::Equals(..) => None,
    }
}

/// Values that `!Ref`/`!GetAtt`/`!Sub` resolve to in one local stack.
#[derive(Debug, Clone, Default)]
pub struct Resolved {
    pub refs: HashMap<String, String>,
    pub attrs: HashMap<(String, String), String>,
    /// Each condition's value in this stack.
    pub conditions: HashMap<String, bool>,
}

impl Resolved {
    pub fn resolve(&self, v: &Value) -> Result<String, String> {
        match v {
            Value::String(s) => Ok(s.clone()),
            Value::Number(n) => Ok(n.to_string()),
            Value::Bool(b) => Ok(b.to_string()),
            _ => match intrinsic(v) {
                Some(Intrinsic::Ref(x)) => self.refs.get(&x).cloned().ok_or(format!("!Ref {x} has no local value")),
                Some(Intrinsic::GetAtt(x, a)) => self
                    .attrs
                    .get(&(x.clone(), a.clone()))
                    .cloned()
                    .ok_or(format!("!GetAtt {x}.{a} has no local value")),
                Some(Intrinsic::Sub(s)) => self.substitute(&s),
                Some(Intrinsic::If(c, a, b)) => {
                    let on = *self.conditions.get(&c).ok_or(format!("!If: no condition {c}"))?;
                    self.resolve(if on { &a } else { &b })
                }
                Some(Intrinsic::Equals(a, b)) => Ok((self.resolve(&a)? == self.resolve(&b)?).to_string()),
                None => Err(format!("cannot resolve {v:?}")),
            },
        }
    }

    /// Evaluates the template's conditions (`!Equals` of resolvable values) once the
    /// parameters are known.
    pub fn evaluate_conditions(&mut self, conditions: &BTreeMap<String, Value>) -> Result<(), String> {
        for (name, def) in conditions {
            let on = self.resolve(def)? == "true";
            self.conditions.insert(name.clone(), on);
        }
        Ok(())
    }

    /// Whether a resource exists in this stack (no condition, or a true one).
    pub fn exists(&self, r: &Resource) -> bool {
        r.condition
            .as_ref()
            .is_none_or(|c| self.conditions.get(c).copied().unwrap_or(false))
    }

    fn substitute(&self, s: &str) -> Result<String, String> {
        let mut out = String::new();
        let mut rest = s;
        while let Some(i) = rest.find("${") {
            out.push_str(&rest[..i]);
            let end = rest[i..].find('}').ok_or("unclosed ${ in !Sub")? + i;
            let name = &rest[i + 2..end];
            let val = match name.split_once('.') {
                Some((x, a)) if !name.starts_with("AWS::") => self.attrs.get(&(x.into(), a.into())).cloned(),
                _ => self.refs.get(name).cloned(),
            };
            out.push_str(&val.ok_or(format!("${{{name}}} has no local value"))?);
            rest = &rest[end + 1..];
        }
        out.push_str(rest);
        Ok(out)
    }
}
