//! How request bodies' JSON forms are read: a field left out versus `null`, nested objects
//! that must be objects, whole numbers sent as `3` or `3.0`. Used in serde attributes as
//! `common::values::...` (re-exported there).

use serde::Deserialize;

/// For PATCH bodies, with `#[serde(default, deserialize_with = "common::values::nullable")]`:
/// an absent field is `None` (leave it), `null` is `Some(None)` (clear it), a value is
/// `Some(Some(v))`.
pub fn nullable<'de, D: serde::Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

/// A nested request object. serde's derived `Deserialize` also reads a struct from a JSON
/// array (its fields in order), which the document does not allow: nested objects of a
/// request go through these (`#[serde(deserialize_with = "common::values::object")]`, and
/// `object_opt`, `nullable_object`, `objects`, `objects_opt`, `object_values` with
/// `default` where the field may be left out), so an array there is 422 like any wrong type.
pub fn object<'de, D: serde::Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<T, D::Error> {
    d.deserialize_map(ObjectOnly(std::marker::PhantomData))
}

struct ObjectOnly<T>(std::marker::PhantomData<T>);

impl<'de, T: Deserialize<'de>> serde::de::Visitor<'de> for ObjectOnly<T> {
    type Value = T;
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("an object")
    }
    fn visit_map<A: serde::de::MapAccess<'de>>(self, map: A) -> Result<T, A::Error> {
        T::deserialize(serde::de::value::MapAccessDeserializer::new(map))
    }
}

/// `T` read by [`object`], for containers of nested objects.
struct Object<T>(T);

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Object<T> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        object(d).map(Object)
    }
}

pub fn object_opt<'de, D: serde::Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Option<T>, D::Error> {
    Ok(Option::<Object<T>>::deserialize(d)?.map(|o| o.0))
}

/// [`nullable`] for a nested object.
pub fn nullable_object<'de, D: serde::Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Option<Option<T>>, D::Error> {
    object_opt(d).map(Some)
}

pub fn objects<'de, D: serde::Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Vec<T>, D::Error> {
    Ok(Vec::<Object<T>>::deserialize(d)?.into_iter().map(|o| o.0).collect())
}

pub fn objects_opt<'de, D: serde::Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Option<Vec<T>>, D::Error> {
    Ok(Option::<Vec<Object<T>>>::deserialize(d)?.map(|v| v.into_iter().map(|o| o.0).collect()))
}

pub fn object_values<'de, D, K, T>(d: D) -> Result<std::collections::BTreeMap<K, T>, D::Error>
where
    D: serde::Deserializer<'de>,
    K: Deserialize<'de> + Ord,
    T: Deserialize<'de>,
{
    Ok(std::collections::BTreeMap::<K, Object<T>>::deserialize(d)?
        .into_iter()
        .map(|(k, v)| (k, v.0))
        .collect())
}

/// A whole number sent as `3` or `3.0`: JSON Schema's `integer` is both, so a client may
/// send either. Use as `#[serde(deserialize_with = "common::values::whole")]`.
pub fn whole<'de, D: serde::Deserializer<'de>, T: TryFrom<u64>>(d: D) -> Result<T, D::Error> {
    let n = d.deserialize_any(Whole)?;
    T::try_from(n).map_err(|_| serde::de::Error::custom(format!("{n} is out of range")))
}

/// [`whole`] for an optional field (`#[serde(default, deserialize_with = "common::values::whole_opt")]`).
pub fn whole_opt<'de, D: serde::Deserializer<'de>, T: TryFrom<u64>>(d: D) -> Result<Option<T>, D::Error> {
    match Option::<WholeNumber>::deserialize(d)? {
        None => Ok(None),
        Some(WholeNumber(n)) => T::try_from(n)
            .map(Some)
            .map_err(|_| serde::de::Error::custom(format!("{n} is out of range"))),
    }
}

struct WholeNumber(u64);

impl<'de> Deserialize<'de> for WholeNumber {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(Whole).map(WholeNumber)
    }
}

struct Whole;

impl serde::de::Visitor<'_> for Whole {
    type Value = u64;
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a whole number, not negative")
    }
    fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<u64, E> {
        Ok(v)
    }
    fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<u64, E> {
        u64::try_from(v).map_err(|_| E::custom("must not be negative"))
    }
    fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<u64, E> {
        if v.fract() == 0.0 && (0.0..=u64::MAX as f64).contains(&v) {
            Ok(v as u64)
        } else {
            Err(E::custom("must be a whole number, not negative"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::values::Location;

    #[test]
    fn nested_objects_must_be_objects() {
        #[derive(Deserialize, Debug)]
        struct Outer {
            #[serde(deserialize_with = "object")]
            one: Location,
            #[serde(default, deserialize_with = "object_opt")]
            maybe: Option<Location>,
            #[serde(default, deserialize_with = "nullable_object")]
            patch: Option<Option<Location>>,
            #[serde(default, deserialize_with = "objects")]
            many: Vec<Location>,
        }
        let ok: Outer = serde_json::from_str(
            r#"{"one": {"city": "Berlin", "country": "DE"}, "patch": null, "many": [{"city": "Paris", "country": "FR"}]}"#,
        )
        .unwrap();
        assert_eq!(
            (ok.one.city.as_str(), ok.maybe, ok.patch, ok.many.len()),
            ("Berlin", None, Some(None), 1)
        );
        // The same fields by position: what derived Deserialize alone accepts.
        for bad in [
            r#"{"one": ["Berlin", null, "DE", null, null]}"#,
            r#"{"one": {"city": "B", "country": "DE"}, "maybe": ["Berlin", null, "DE", null, null]}"#,
            r#"{"one": {"city": "B", "country": "DE"}, "patch": ["Berlin", null, "DE", null, null]}"#,
            r#"{"one": {"city": "B", "country": "DE"}, "many": [["Berlin", null, "DE", null, null]]}"#,
        ] {
            assert!(serde_json::from_str::<Outer>(bad).is_err(), "{bad}");
        }
        assert!(
            serde_json::from_str::<Location>(r#"["Berlin", null, "DE", null, null]"#).is_ok(),
            "derived Deserialize takes arrays"
        );
    }

    #[test]
    fn whole_numbers_come_as_integers_or_integral_floats() {
        #[derive(Deserialize)]
        struct W {
            #[serde(deserialize_with = "whole")]
            n: u32,
            #[serde(default, deserialize_with = "whole_opt")]
            o: Option<u32>,
        }
        let w: W = serde_json::from_str(r#"{"n": 771.0, "o": 5}"#).unwrap();
        assert_eq!((w.n, w.o), (771, Some(5)));
        let w: W = serde_json::from_str(r#"{"n": 3, "o": null}"#).unwrap();
        assert_eq!((w.n, w.o), (3, None));
        for bad in [
            r#"{"n": 1.5}"#,
            r#"{"n": -1}"#,
            r#"{"n": 4294967296}"#,
            r#"{"n": "3"}"#,
            r#"{"n": true}"#,
        ] {
            assert!(serde_json::from_str::<W>(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn nullable_tells_absent_from_null() {
        #[derive(Deserialize)]
        struct Patch {
            #[serde(default, deserialize_with = "nullable")]
            v: Option<Option<String>>,
        }
        let p = |s: &str| serde_json::from_str::<Patch>(s).unwrap().v;
        assert_eq!(p("{}"), None);
        assert_eq!(p(r#"{"v": null}"#), Some(None));
        assert_eq!(p(r#"{"v": "x"}"#), Some(Some("x".into())));
    }
}
