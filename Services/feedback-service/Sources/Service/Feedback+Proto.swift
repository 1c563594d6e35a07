public import C360Contracts
import C360ServerKit
import Foundation
import SwiftProtobuf

// The public protobuf form of feedback-service's domain values (what clients and the gateway see).

extension Survey {
    public var proto: Customer360_V1_Survey {
        .with {
            $0.surveyID = id
            $0.surveyType = type.proto
            $0.name = name
            $0.question = question
            $0.language = language
            $0.channel = channel.proto
            $0.scaleMin = Int32(scale.lowerBound)
            $0.scaleMax = Int32(scale.upperBound)
            $0.createdAt = Google_Protobuf_Timestamp(date: createdAt)
            $0.active = active
        }
    }
}

extension Sentiment {
    public var proto: Customer360_V1_Sentiment {
        .with {
            $0.score = score
            $0.label = label.proto
            $0.language = language.rawValue
        }
    }
}

extension SurveyResponse {
    public var proto: Customer360_V1_SurveyResponse {
        .with {
            $0.responseID = id
            $0.customerID = customerID
            $0.surveyID = surveyID
            $0.surveyType = surveyType.proto
            $0.score = Int32(score)
            if let category = npsCategory { $0.npsCategory = category.proto }
            $0.comment = comment
            if let sentiment {
                $0.commentLanguage = sentiment.language.rawValue
                $0.sentiment = sentiment.proto
            }
            $0.channel = channel.proto
            $0.answeredAt = Google_Protobuf_Timestamp(date: answeredAt)
            $0.touchpointID = touchpointID
            $0.ticketID = ticketID
            $0.surveyLanguage = surveyLanguage
            $0.recordedAt = Google_Protobuf_Timestamp(date: recordedAt)
        }
    }
}

extension SentimentTally {
    public var proto: Customer360_V1_SentimentSummary {
        .with {
            $0.comments = Int64(comments)
            $0.positive = Int64(positive)
            $0.neutral = Int64(neutral)
            $0.negative = Int64(negative)
            $0.scoreSum = scoreSum
            if let meanScore { $0.meanScore = meanScore }
            if let latest { $0.latest = latest.proto }
        }
    }
}

extension ScoreAggregate {
    public var proto: Customer360_V1_ScoreAggregate {
        .with {
            $0.responses = Int64(responses)
            $0.nps = .with {
                $0.responses = Int64(nps.responses)
                $0.promoters = Int64(nps.promoters)
                $0.passives = Int64(nps.passives)
                $0.detractors = Int64(nps.detractors)
                if let score = nps.score { $0.nps = score }
            }
            $0.csat = .with {
                $0.responses = Int64(csat.responses)
                $0.satisfied = Int64(csat.satisfied)
                if let percent = csat.percent { $0.csatPercent = percent }
            }
            $0.ces = .with {
                $0.responses = Int64(ces.responses)
                $0.scoreSum = Int64(ces.scoreSum)
                if let mean = ces.mean { $0.cesMean = mean }
            }
            $0.sentiment = sentiment.proto
            $0.customResponses = Int64(customResponses)
        }
    }
}

extension CustomerTypeScore {
    public var proto: Customer360_V1_CustomerTypeScore {
        .with {
            $0.responses = Int64(responses)
            $0.latestScore = Int32(latestScore)
            $0.latestAnsweredAt = Google_Protobuf_Timestamp(date: latestAnsweredAt)
            if let previousScore { $0.previousScore = Int32(previousScore) }
            $0.value = value
            $0.trend = trend.proto
        }
    }
}

extension CustomerScores {
    /// The scores of `customerID` over `window`.
    public func proto(customerID: String, window: Customer360_V1_TimeRange?) -> Customer360_V1_CustomerScores {
        .with {
            $0.customerID = customerID
            if let window { $0.window = window }
            if let nps { $0.nps = nps.proto }
            if let csat { $0.csat = csat.proto }
            if let ces { $0.ces = ces.proto }
            if let latestNpsCategory { $0.latestNpsCategory = latestNpsCategory.proto }
            if sentiment.comments > 0 { $0.sentiment = sentiment.proto }
            $0.responses = Int64(responses)
            if let lastAnsweredAt { $0.lastAnsweredAt = Google_Protobuf_Timestamp(date: lastAnsweredAt) }
        }
    }
}

extension FeatureRequest {
    public var proto: Customer360_V1_FeatureRequest {
        .with {
            $0.featureRequestID = id
            $0.title = title
            $0.details = details
            $0.status = status.proto
            $0.votes = Int64(votes)
            $0.createdAt = Google_Protobuf_Timestamp(date: createdAt)
            $0.updatedAt = Google_Protobuf_Timestamp(date: updatedAt)
            $0.statusNote = statusNote
            $0.duplicateOfID = duplicateOfID
        }
    }
}

extension FeatureVote {
    public var proto: Customer360_V1_FeatureRequestVote {
        .with {
            $0.featureRequestID = featureRequestID
            $0.customerID = customerID
            $0.comment = comment
            if let channel { $0.channel = channel.proto }
            $0.votedAt = Google_Protobuf_Timestamp(date: votedAt)
            $0.featureRequestTitle = featureRequestTitle
        }
    }
}

extension ChurnReason {
    public var proto: Customer360_V1_ChurnReason {
        .with {
            $0.churnReasonID = id
            $0.customerID = customerID
            $0.category = category.proto
            $0.text = text
            if let sentiment { $0.sentiment = sentiment.proto }
            $0.churnedAt = Google_Protobuf_Timestamp(date: churnedAt)
            if let channel { $0.channel = channel.proto }
            $0.recordedBy = recordedBy
            $0.recordedAt = Google_Protobuf_Timestamp(date: recordedAt)
        }
    }
}

extension ThemesInPeriod {
    public var proto: Customer360_V1_ThemesInPeriod {
        .with {
            if let start { $0.range.start = Google_Protobuf_Timestamp(date: start) }
            if let end { $0.range.end = Google_Protobuf_Timestamp(date: end) }
            $0.comments = Int64(comments)
            $0.themes = themes.map { theme in
                .with {
                    $0.term = theme.term
                    $0.comments = Int64(theme.comments)
                    $0.sampleResponseIds = theme.sampleResponseIDs
                }
            }
        }
    }
}
