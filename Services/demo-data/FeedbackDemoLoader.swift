import C360Clients
import C360Contracts
import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
import SwiftProtobuf

/// Gives feedback-service NPS, CSAT and CES surveys in English and Persian, has every demo customer answer one to four
/// of them in their own language over the last 180 days (most happy, a minority unhappy with low scores and negative
/// comments about a few recurring problems), creates feature requests with votes and status changes, and records why
/// a few churned customers left.
struct FeedbackDemoLoader {
    let feedback: Customer360_V1_FeedbackService.Client<PeerTransport>
    var generator: DemoGenerator
    let now: Date

    private let options = CallOptions.deadline(.seconds(10))
    private let day: TimeInterval = 86_400

    /// What was sent, for the summary.
    private struct Counts {
        var responses = 0
        var comments = 0
        var duplicates = 0
    }

    mutating func load(customers: [Customer360_V1_Customer]) async throws {
        print("demo-data: creating \(DemoSurveys.all.count) surveys in feedback-service…")
        for survey in DemoSurveys.all {
            _ = try await feedback.createSurvey(survey, options: options)
        }

        print("demo-data: recording survey responses for \(customers.count) customers…")
        var counts = Counts()
        for (index, customer) in customers.enumerated() {
            let answered = try await recordResponses(of: customer)
            counts.responses += answered.responses
            counts.comments += answered.comments
            counts.duplicates += answered.duplicates
            if (index + 1) % 100 == 0 || index + 1 == customers.count {
                print("demo-data: \(index + 1)/\(customers.count) customers answered surveys")
            }
        }
        print(
            "demo-data: \(counts.responses) survey responses (\(counts.comments) with a comment, "
                + "\(counts.duplicates) already stored)")

        let votes = try await featureRequests(votedBy: customers)
        print("demo-data: \(DemoFeatureRequests.all.count) feature requests with \(votes) votes")

        let churned = try await churnReasons(of: customers)
        print("demo-data: \(churned) churn reasons")

        // A look at what the comments add up to; the data is loaded whatever this answers.
        if let themes = try? await feedback.getTopThemes(.with { $0.limit = 5 }, options: options),
            let period = themes.periods.first, !period.themes.isEmpty
        {
            let terms = period.themes.map { "\($0.term) (\($0.comments))" }.joined(separator: ", ")
            print("demo-data: top themes of negative comments: \(terms)")
        }
        print("demo-data: done (surveys, \(counts.responses) responses, feature requests and churn reasons)")
    }

    // MARK: - Survey responses

    /// One to four answers to surveys in the customer's language, at distinct moments of the last 180 days.
    private mutating func recordResponses(of customer: Customer360_V1_Customer) async throws -> Counts {
        let language = Self.language(of: customer)
        let surveys = DemoSurveys.all.filter { $0.language == language }
        let struggling = customer.lifecycleStage == .atRisk || customer.lifecycleStage == .churned
        // A minority of customers is unhappy, more of them among those at risk or gone.
        let unhappy = generator.chance(struggling ? 0.45 : 0.08)
        var counts = Counts()
        let count = Int.random(in: 1...4, using: &generator)
        for index in 0..<count {
            let survey = generator.pick(surveys)
            let tone = self.tone(unhappy: unhappy)
            let score = self.score(tone, on: survey.surveyType)
            let comment =
                generator.chance(0.6) ? DemoComments.pick(language: language, tone: tone, using: &generator) : ""
            // At least an hour ago, so answered_at is never in the future.
            let answeredAt = now.addingTimeInterval(-Double.random(in: 3_600...(180 * day), using: &generator))
            let answer = try await feedback.recordResponse(
                .with {
                    $0.customerID = customer.customerID
                    $0.responseID = "demo-r-\(customer.customerID.suffix(12))-\(index)"
                    $0.surveyID = survey.surveyID
                    $0.score = score
                    $0.comment = comment
                    $0.commentLanguage = comment.isEmpty ? "" : language
                    $0.answeredAt = Google_Protobuf_Timestamp(date: answeredAt)
                }, options: options)
            counts.responses += 1
            if !comment.isEmpty { counts.comments += 1 }
            if answer.duplicate { counts.duplicates += 1 }
        }
        return counts
    }

    /// "fa" for Persian speakers, "en" for everyone else (the demo surveys exist in these two languages).
    static func language(of customer: Customer360_V1_Customer) -> String {
        let preferred =
            customer.preferences.preferredLanguage.isEmpty
            ? customer.demographics.language : customer.preferences.preferredLanguage
        return preferred.lowercased().hasPrefix("fa") ? "fa" : "en"
    }

    /// The mood of one answer: unhappy customers are mostly negative, the others mostly positive.
    private mutating func tone(unhappy: Bool) -> DemoTone {
        let roll = Double.random(in: 0..<1, using: &generator)
        if unhappy { return roll < 0.75 ? .negative : .neutral }
        switch roll {
        case ..<0.68: return .positive
        case ..<0.96: return .neutral
        default: return .negative
        }
    }

    /// A score on the survey type's scale that agrees with `tone`: positive is an NPS promoter (9–10), a satisfied
    /// CSAT (4–5) or an easy CES (6–7); neutral a passive (7–8), a 3, or a 4–5; negative a detractor (0–6), a 1–2,
    /// or a 1–3.
    private mutating func score(_ tone: DemoTone, on type: Customer360_V1_SurveyType) -> Int32 {
        switch (type, tone) {
        case (.nps, .positive): generator.chance(0.6) ? 10 : 9
        case (.nps, .neutral): Int32.random(in: 7...8, using: &generator)
        case (.nps, .negative): generator.pick([0, 1, 2, 3, 3, 4, 5, 5, 6, 6] as [Int32])
        case (.csat, .positive): generator.chance(0.55) ? 5 : 4
        case (.csat, .neutral): 3
        case (.csat, .negative): generator.pick([1, 2, 2] as [Int32])
        case (.ces, .positive): generator.chance(0.5) ? 7 : 6
        case (.ces, .neutral): Int32.random(in: 4...5, using: &generator)
        default: Int32.random(in: 1...3, using: &generator)
        }
    }

    // MARK: - Feature requests

    /// Creates the feature requests, lets customers vote (each request has its own popularity; Persian-only ones get
    /// Persian speakers' votes), then moves a few along. Returns the votes cast.
    private mutating func featureRequests(votedBy customers: [Customer360_V1_Customer]) async throws -> Int {
        for request in DemoFeatureRequests.all {
            _ = try await feedback.createFeatureRequest(
                .with {
                    $0.featureRequestID = request.id
                    $0.title = request.title
                    $0.details = request.details
                }, options: options)
        }
        var votes = 0
        for (index, customer) in customers.enumerated() {
            let persian = Self.language(of: customer) == "fa"
            for request in DemoFeatureRequests.all
            where (persian || !request.persianOnly)
                && generator.chance(request.popularity)
            {
                let channel: Customer360_V1_Channel = generator.pick([.app, .app, .web])
                _ = try await feedback.voteFeatureRequest(
                    .with {
                        $0.customerID = customer.customerID
                        $0.featureRequestID = request.id
                        $0.channel = channel
                    }, options: options)
                votes += 1
            }
            if (index + 1) % 100 == 0 || index + 1 == customers.count {
                print("demo-data: \(index + 1)/\(customers.count) customers voted on feature requests")
            }
        }
        for change in DemoFeatureRequests.statusChanges {
            _ = try await feedback.updateFeatureRequestStatus(
                .with {
                    $0.featureRequestID = change.id
                    $0.status = change.status
                    $0.note = change.note
                }, options: options)
        }
        return votes
    }

    // MARK: - Churn reasons

    /// Reasons, in their own language, for about 5% of customers (drawn from the churned ones), spread evenly over
    /// price, competitors, support, quality and missing features. Returns how many were recorded.
    private mutating func churnReasons(of customers: [Customer360_V1_Customer]) async throws -> Int {
        let categories: [Customer360_V1_ChurnReasonCategory] = [
            .price, .competitor, .supportExperience, .productQuality, .missingFeature,
        ]
        var recorded = 0
        for customer in customers where customer.lifecycleStage == .churned && generator.chance(0.4) {
            let category = categories[recorded % categories.count]
            let language = Self.language(of: customer)
            let text = generator.pick(DemoChurnTexts.texts(for: category, language: language))
            let churnedAt = now.addingTimeInterval(-Double.random(in: 1...90, using: &generator) * day)
            let channel: Customer360_V1_Channel = generator.pick([.phone, .email, .chat])
            let recordedBy = generator.pick(["csm-negar", "agent-john", "agent-reza", ""])
            _ = try await feedback.recordChurnReason(
                .with {
                    $0.customerID = customer.customerID
                    $0.churnReasonID = "demo-churn-\(customer.customerID.suffix(12))"
                    $0.category = category
                    $0.text = text
                    $0.churnedAt = Google_Protobuf_Timestamp(date: churnedAt)
                    $0.channel = channel
                    $0.recordedBy = recordedBy
                }, options: options)
            recorded += 1
        }
        return recorded
    }
}

/// The mood of one survey answer; its score and its comment always agree.
enum DemoTone {
    case positive, neutral, negative
}

/// The demo surveys: NPS, CSAT and CES, each in English (asked by email) and Persian (asked by SMS or in the app).
/// Scales are left unset (0, 0) so the service applies the fixed ones.
enum DemoSurveys {
    static let all: [Customer360_V1_CreateSurveyRequest] = [
        survey(
            "demo-nps-en", .nps, "NPS after purchase (en)",
            "How likely are you to recommend us to a friend or colleague?", "en", .email),
        survey(
            "demo-nps-fa", .nps, "NPS after purchase (fa)",
            "چقدر احتمال دارد ما را به دوستان یا همکاران خود پیشنهاد کنید؟", "fa", .sms),
        survey(
            "demo-csat-en", .csat, "post-ticket CSAT (en)",
            "How satisfied were you with the help you received?", "en", .email),
        survey(
            "demo-csat-fa", .csat, "post-ticket CSAT (fa)",
            "از پاسخی که از پشتیبانی دریافت کردید چقدر راضی بودید؟", "fa", .app),
        survey(
            "demo-ces-en", .ces, "order CES (en)",
            "Placing my order and getting it delivered was easy.", "en", .email),
        survey(
            "demo-ces-fa", .ces, "order CES (fa)",
            "ثبت سفارش و دریافت آن برای من آسان بود.", "fa", .app),
    ]

    private static func survey(
        _ id: String, _ type: Customer360_V1_SurveyType, _ name: String, _ question: String, _ language: String,
        _ channel: Customer360_V1_Channel
    ) -> Customer360_V1_CreateSurveyRequest {
        .with {
            $0.surveyID = id
            $0.surveyType = type
            $0.name = name
            $0.question = question
            $0.language = language
            $0.channel = channel
        }
    }
}

/// One demo feature request: how popular it is among voters, and whether only Persian speakers care about it.
struct DemoFeatureRequest {
    var id: String
    var title: String
    var details: String
    var popularity: Double
    var persianOnly = false
}

/// The demo feature requests and the status changes they went through.
enum DemoFeatureRequests {
    static let all: [DemoFeatureRequest] = [
        DemoFeatureRequest(
            id: "demo-fr-1", title: "Export reports to Excel",
            details: "Monthly order and invoice reports as .xlsx files, not only CSV.", popularity: 0.12),
        DemoFeatureRequest(
            id: "demo-fr-2", title: "Dark mode in the mobile app",
            details: "لطفاً حالت تاریک را به اپلیکیشن موبایل اضافه کنید؛ شب‌ها نور صفحه چشم را اذیت می‌کند.",
            popularity: 0.2),
        DemoFeatureRequest(
            id: "demo-fr-3", title: "Live order tracking on a map",
            details: "Show where the courier is and send an SMS when the parcel is ten minutes away.",
            popularity: 0.3),
        DemoFeatureRequest(
            id: "demo-fr-4", title: "Pay in instalments",
            details: "امکان پرداخت اقساطی برای خریدهای بالای ده میلیون تومان، مثل بقیه فروشگاه‌ها.",
            popularity: 0.15),
        DemoFeatureRequest(
            id: "demo-fr-5", title: "Jalali (Persian) dates on invoices",
            details: "تاریخ فاکتورها و سفارش‌ها به تقویم شمسی نمایش داده شود.", popularity: 0.25,
            persianOnly: true),
        DemoFeatureRequest(
            id: "demo-fr-6", title: "Two-factor authentication with an authenticator app",
            details: "SMS codes arrive late abroad; support TOTP apps as a second factor.",
            popularity: 0.08),
        DemoFeatureRequest(
            id: "demo-fr-7", title: "Save several delivery addresses",
            details: "Home, office and parents' address, chosen at checkout.", popularity: 0.18),
        DemoFeatureRequest(
            id: "demo-fr-8", title: "Weekend support on live chat",
            details: "پشتیبانی آنلاین جمعه‌ها هم پاسخگو باشد؛ بیشتر خریدهای ما آخر هفته است.",
            popularity: 0.1),
    ]

    static let statusChanges: [(id: String, status: Customer360_V1_FeatureRequestStatus, note: String)] = [
        ("demo-fr-3", .planned, "Scheduled for next quarter together with the courier app."),
        ("demo-fr-2", .planned, "Design is ready; planned for the next app release."),
        ("demo-fr-1", .planned, "Planned after the reporting refactor."),
        ("demo-fr-1", .shipped, "Released in version 4.2: Reports › Export › Excel."),
        ("demo-fr-5", .shipped, "Invoices show both Gregorian and Jalali dates."),
        ("demo-fr-6", .underReview, "Security team is evaluating TOTP providers."),
    ]
}

/// What churned customers said, per category and language.
enum DemoChurnTexts {
    static func texts(for category: Customer360_V1_ChurnReasonCategory, language: String) -> [String] {
        let persian = language == "fa"
        switch category {
        case .price:
            return persian
                ? [
                    "قیمت‌ها برای ما خیلی بالا رفت و دیگر به‌صرفه نبود.",
                    "همین کالاها رو جای دیگه ارزون‌تر پیدا کردیم.",
                    "هزینه ارسال از قیمت خود کالا بیشتر شده بود.",
                ]
                : [
                    "Your prices went up too much for our budget.",
                    "We found the same products cheaper elsewhere.",
                    "The shipping fee ended up higher than the items themselves.",
                ]
        case .competitor:
            return persian
                ? [
                    "به یک فروشگاه دیگه رفتیم که ارسالش سریع‌تره.",
                    "فروشگاه دیگری برای همه سفارش‌ها ارسال رایگان داشت.",
                    "باشگاه مشتریان رقیب شما امتیازهای بهتری می‌داد.",
                ]
                : [
                    "Switched to a competitor with next-day delivery.",
                    "Another shop offers free shipping on every order.",
                    "A competitor gave us a much better loyalty deal.",
                ]
        case .supportExperience:
            return persian
                ? [
                    "پشتیبانی هیچ‌وقت به تیکت‌هامون جواب نداد.",
                    "برای هر جواب از پشتیبانی چند روز منتظر می‌ماندیم.",
                    "هیچ‌کس در پشتیبانی نتوانست مشکل صورتحساب ما را حل کند.",
                ]
                : [
                    "Support never answered our tickets.",
                    "We waited days for every answer from support.",
                    "Nobody at support could fix our billing problem.",
                ]
        case .productQuality:
            return persian
                ? [
                    "اپلیکیشن مدام کرش می‌کرد و سفارش‌هامون از دست می‌رفت.",
                    "خیلی از کالاها آسیب‌دیده به دستمان رسید.",
                    "سایت موقع حراج‌ها مرتب از دسترس خارج می‌شد.",
                ]
                : [
                    "The app kept crashing and we lost orders.",
                    "Too many items arrived damaged.",
                    "The website went down during every sale.",
                ]
        default:
            return persian
                ? [
                    "ما پرداخت اقساطی لازم داشتیم که شما ارائه نمی‌دهید.",
                    "امکان گرفتن خروجی اکسل از سوابق سفارش وجود نداشت.",
                    "نمی‌شد چند آدرس تحویل ذخیره کرد و هر بار باید از نو وارد می‌کردیم.",
                ]
                : [
                    "We needed to pay in instalments and you do not offer it.",
                    "There is no way to export our order history to Excel.",
                    "We could not save more than one delivery address.",
                ]
        }
    }
}

/// Comments customers leave with their scores, per language and tone. Negative ones keep coming back to the same few
/// problems (late delivery, app crashes, slow refunds, unanswered support, price), so themes stand out.
enum DemoComments {
    static func pick(language: String, tone: DemoTone, using generator: inout DemoGenerator) -> String {
        switch (language == "fa", tone) {
        case (false, .positive): generator.pick(englishPositive)
        case (false, .neutral): generator.pick(englishNeutral)
        case (false, .negative): generator.pick(englishNegative)
        case (true, .positive): generator.pick(persianPositive)
        case (true, .neutral): generator.pick(persianNeutral)
        case (true, .negative): generator.pick(persianNegative)
        }
    }

    static let englishPositive = [
        "Fast delivery and the package was well protected. Very happy!",
        "Support answered within minutes and solved my problem. Thank you!",
        "Great prices and a smooth checkout.",
        "The app is easy to use and I found everything quickly.",
        "Excellent service, I have already recommended you to two friends.",
        "My order arrived a day early. Impressive.",
        "The refund was processed the same day, no questions asked.",
        "Friendly and helpful support team.",
        "Love the new order history page, it saves me a lot of time.",
        "Everything worked perfectly, from ordering to delivery.",
        "Really good quality for the price.",
        "The agent was patient and explained everything clearly.",
        "Best online shopping experience I have had this year.",
        "Reliable as always. Keep up the good work!",
        "The mobile app is fast and has never let me down.",
        "Great loyalty program, the points are actually useful.",
        "Quick, simple and hassle-free.",
        "I really appreciate the clear tracking updates for my delivery.",
        "Customer service went above and beyond to help me.",
        "Very satisfied with both the product and the service.",
        "The courier was polite and right on time.",
        "Returning an item was easy and the money came back quickly.",
        "Wonderful experience, I will definitely order again.",
        "The new search makes finding products so much easier.",
        "Fair prices and excellent support. Highly recommended.",
        "Setup took five minutes and everything just worked.",
        "Lovely packaging, it felt like opening a gift.",
    ]

    static let englishNeutral = [
        "Delivery took the usual three days.",
        "The product is fine, but the instructions could be clearer.",
        "An average experience overall.",
        "Support solved my issue, though it took two emails.",
        "Prices are about the same as in other shops.",
        "The app works, but some menus are hard to find.",
        "It did what I expected, nothing more.",
        "Checkout was okay; the coupon field is a bit hidden.",
        "I ordered a replacement part and it arrived as described.",
        "Decent service, with some room for improvement.",
        "No complaints, no surprises.",
        "The box was far too big for the item, but the item itself was fine.",
        "I had to ask twice about the invoice, then it was sorted.",
        "The website gets slower in the evenings.",
        "A reasonable option for the price.",
        "The tracking page only updated once a day.",
        "Some items were out of stock; the rest arrived together.",
        "Got what I ordered, on the expected date.",
        "The product matches the photos.",
        "I would like more payment options.",
        "There was a short wait on the phone, then the agent helped.",
        "Not bad, not great.",
        "The app update changed the layout and I am still getting used to it.",
        "Pretty much the same as last time.",
        "The size guide could be more precise.",
        "I found the answer on the help pages eventually.",
    ]

    static let englishNegative = [
        "The delivery was late again, a week after the promised date.",
        "The app crashes every time I open my orders.",
        "Still waiting for my refund after three weeks.",
        "Support never answered my emails.",
        "Prices went up and the delivery fee is too expensive now.",
        "Late delivery and nobody told me why.",
        "The app keeps crashing during checkout, I lost my cart twice.",
        "My refund is taking far too long.",
        "I opened a ticket ten days ago and support has not answered.",
        "Too expensive compared to other shops.",
        "The courier was two days late and the box was damaged.",
        "Terrible experience: the app crashed and I was charged twice.",
        "The refund process is slow and confusing.",
        "Support is unreachable, nobody ever answers the chat.",
        "The price doubled in six months. Not happy at all.",
        "The delivery was very late and support never answered.",
        "The app crashes after the latest update, please fix it.",
        "Refund still not received. Very disappointed.",
        "I waited forty minutes on the phone and nobody answered.",
        "Hidden fees at checkout made the price much higher than shown.",
        "The order arrived late and incomplete.",
        "The app is slow and crashes on my phone.",
        "I returned the item a month ago and the refund is still pending.",
        "Support closed my ticket without answering my question.",
        "Not worth the price anymore.",
        "Late delivery ruined the birthday present I ordered.",
        "Very disappointed: the delivery was late and the refund was slow.",
    ]

    static let persianPositive = [
        "ارسال خیلی سریع بود و بسته‌بندی هم عالی بود. ممنونم.",
        "پشتیبانی در عرض چند دقیقه جواب داد و مشکلم حل شد.",
        "قیمت‌ها مناسب است و خرید از سایت بسیار راحت است.",
        "اپلیکیشن خیلی خوب و سریع کار می‌کنه، دمتون گرم.",
        "از کیفیت محصول بسیار راضی هستم.",
        "سفارشم یک روز زودتر رسید، واقعاً عالی بود.",
        "بازگشت وجه همان روز انجام شد، سپاسگزارم.",
        "کارشناس پشتیبانی خیلی با حوصله و مؤدب بود.",
        "همه چیز عالی بود، حتماً دوباره خرید می‌کنم.",
        "خیلی راضی‌ام، به دوستام هم معرفیتون کردم.",
        "پیک به‌موقع رسید و خیلی هم محترم بود.",
        "تجربه خرید بسیار خوبی بود، خسته نباشید.",
        "امتیازهای باشگاه مشتریان واقعاً به درد می‌خوره.",
        "پرداخت راحت و بدون دردسر بود.",
        "پیگیری سفارش دقیق و به‌روز بود، عالیه.",
        "کیفیت کالا نسبت به قیمتش فوق‌العاده است.",
        "نسخه جدید برنامه خیلی بهتر و کاربردی‌تر شده.",
        "از برخورد خوب همکاران پشتیبانی صمیمانه تشکر می‌کنم.",
        "مرجوع کردن کالا خیلی ساده بود و پولم سریع برگشت.",
        "بهترین فروشگاه اینترنتی‌ای که تا حالا ازش خرید کردم.",
        "سرعت ارسال و کیفیت بسته‌بندی قابل تقدیر است.",
        "همه‌چی همون‌طور بود که تو عکس‌ها دیده بودم، مرسی.",
        "خدمات شما همیشه قابل اعتماد بوده است.",
        "جستجوی جدید سایت کار رو خیلی راحت کرده.",
        "خیلی راضی هستم، ارسال سریع بود و پشتیبانی عالی جواب داد.",
        "ممنون از پیگیری سریع‌تون، واقعاً عالی بودید.",
    ]

    static let persianNeutral = [
        "ارسال طبق معمول سه روز طول کشید.",
        "محصول بد نیست ولی راهنمای استفاده‌اش می‌تونست بهتر باشه.",
        "در مجموع تجربه معمولی بود.",
        "مشکلم حل شد، البته بعد از دو بار تماس.",
        "قیمت‌ها تقریباً مثل بقیه فروشگاه‌هاست.",
        "اپلیکیشن کار می‌کند اما پیدا کردن بعضی بخش‌ها سخت است.",
        "همان چیزی بود که انتظار داشتم، نه بیشتر نه کمتر.",
        "کالا مطابق توضیحات سایت بود.",
        "جعبه برای این کالا زیادی بزرگ بود ولی کالا سالم رسید.",
        "برای فاکتور دو بار پیگیری کردم تا درست شد.",
        "سایت عصرها کمی کند می‌شود.",
        "با توجه به قیمت، گزینه قابل قبولی است.",
        "بعضی کالاها موجود نبود، بقیه با هم رسید.",
        "سفارش در تاریخ اعلام‌شده تحویل شد.",
        "کاش روش‌های پرداخت بیشتری داشتید.",
        "نه خوب بود نه بد.",
        "بعد از آپدیت ظاهر برنامه عوض شده؛ هنوز دارم بهش عادت می‌کنم.",
        "مثل دفعه قبل بود، چیز خاصی نداشت.",
        "جدول سایز می‌تونه دقیق‌تر باشه.",
        "جواب سؤالم رو آخرش تو بخش راهنما پیدا کردم.",
        "پشت خط کمی منتظر ماندم و بعد کارشناس راهنمایی‌ام کرد.",
        "رنگ کالا کمی با عکس فرق داشت ولی قابل قبول بود.",
        "کد تخفیف رو به زور پیدا کردم ولی اعمال شد.",
        "اطلاعات رهگیری فقط روزی یک بار به‌روز می‌شد.",
        "فعلاً نظر خاصی ندارم، باید بیشتر استفاده کنم.",
        "تحویل سفارش طبق زمان‌بندی بود.",
    ]

    static let persianNegative = [
        "ارسال خیلی دیر انجام شد، یک هفته بعد از تاریخ اعلام‌شده رسید.",
        "اپلیکیشن هر بار که سفارش‌ها را باز می‌کنم کرش می‌کند.",
        "سه هفته است منتظر بازگشت وجه هستم.",
        "پشتیبانی به ایمیل‌هایم هیچ جوابی نداد.",
        "قیمت‌ها خیلی گران شده و هزینه ارسال هم زیاد است.",
        "ارسال دیر بود و هیچ‌کس هم توضیحی نداد.",
        "اپ موقع پرداخت همش کرش می‌کنه، دو بار سبد خریدم پاک شد.",
        "بازگشت وجه خیلی طول می‌کشه، واقعاً خسته شدم.",
        "ده روزه تیکت زدم و پشتیبانی هنوز جواب نداده.",
        "نسبت به فروشگاه‌های دیگه خیلی گرونه.",
        "پیک دو روز دیر اومد و جعبه هم آسیب دیده بود.",
        "تجربه افتضاحی بود؛ اپلیکیشن کرش کرد و دو بار از حسابم پول کم شد.",
        "روند بازگشت وجه کند و گیج‌کننده است.",
        "پشتیبانی اصلاً در دسترس نیست، چت آنلاین هیچ‌وقت جواب نمی‌ده.",
        "قیمت‌ها تو شش ماه دو برابر شده، اصلاً راضی نیستم.",
        "ارسال خیلی دیر بود و پشتیبانی هم جواب نداد.",
        "بعد از آخرین به‌روزرسانی، اپلیکیشن مدام کرش می‌کند.",
        "هنوز بازگشت وجه انجام نشده، خیلی ناامید شدم.",
        "چهل دقیقه پشت خط ماندم و کسی جواب نداد.",
        "هزینه‌های پنهان موقع پرداخت، قیمت نهایی را خیلی گران کرد.",
        "سفارش دیر رسید و ناقص هم بود.",
        "برنامه خیلی کنده و روی گوشیم کرش می‌کنه.",
        "یک ماه پیش کالا را مرجوع کردم و هنوز بازگشت وجه انجام نشده.",
        "پشتیبانی تیکتم رو بدون جواب بست.",
        "دیگه به این قیمت نمی‌ارزه.",
        "ارسال دیر باعث شد هدیه تولد به موقع نرسه، خیلی بد بود.",
        "خیلی ناراضی‌ام؛ ارسال دیر بود و بازگشت وجه هم کند.",
    ]
}
